"""“Pull a range…” of a Verdigris source: the chosen days pulled from the Verdigris fake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDate
from pytestqt.qtbot import QtBot

from app.core.pulls.jobs import JobStore
from app.core.pulls.verdigris_auth import secret_name
from app.core.pulls.verdigris_pull import VerdigrisConfig
from app.ui.context import AppContext
from app.ui.window.main_window import MainWindow
from app.ui.window.pull_range import PullRangeDialog
from tests.fakes.verdigris import FakeVerdigris


def test_the_dashboard_pulls_a_chosen_range_with_progress(
    qtbot: QtBot, context: AppContext
) -> None:
    with FakeVerdigris(circuits=["100", "101"]) as fake:
        config = VerdigrisConfig(client_id=fake.client_id, circuits=["100", "101"],
                                 interval="1h", kinds=["energy"], auth_url=fake.token_url,
                                 api_url=fake.url)  # fmt: skip
        store = JobStore(context.jobs_file)
        store.save("campus", "verdigris", config.to_dict(), timedelta(minutes=15),
                   datetime.now(UTC) + timedelta(hours=1))  # fmt: skip
        context.secrets.set(secret_name(fake.client_id), fake.client_secret)
        window = MainWindow(context)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
            window.refresh()
        window.sources.select("campus")
        assert window.sources.buttons_by_name["range"].isEnabled()  # a Verdigris source
        window.sources.buttons_by_name["range"].click()
        dialog = window.actions_.sources.range_dialog
        assert isinstance(dialog, PullRangeDialog)
        assert dialog.status.text() == (
            "This pull asks Verdigris for one token (Verdigris allows 20 token requests an hour "
            "and does not report how many are left)."
        )
        qtbot.addWidget(dialog)
        today = QDate.currentDate()
        dialog.since.setDate(today.addDays(-3))
        dialog.until.setDate(today.addDays(-2))
        dialog.start()  # (a wait for its finished signal could connect after it came)
        qtbot.waitUntil(lambda: dialog.status.text().startswith("Pulled "), timeout=30_000)
        again = PullRangeDialog(context, "campus")  # the token is saved now: none is asked
        qtbot.addWidget(again)
        assert again.status.text().startswith("The saved Verdigris token is valid until ")
        again.start()  # the same days again: the saved token, no new one
        qtbot.waitUntil(lambda: again.status.text().startswith("Pulled "), timeout=30_000)
        assert len(fake.token_times) == 1  # what the fake's token endpoint counted
    # 2 days × 24 hours × 2 circuits, into the outbox (no EnergyCAP set): said plainly.
    assert dialog.status.text().startswith("Pulled 96 readings (")
    assert "Verdigris request(s)" in dialog.status.text()
    # The quota as the pull knows it: the token requests it made, against the documented limit.
    assert dialog.status.text().endswith(
        "This pull asked Verdigris for 1 new token(s); Verdigris allows 20 token requests an "
        "hour and does not report how many are left."
    )
    assert "This pull asked Verdigris for no new token (the saved one was valid)" in (
        again.status.text()
    )
    assert "about" not in dialog.status.text()  # never an approximation
    assert any(context.paths.outbox_dir.iterdir())


def test_a_failed_range_pull_says_why_plainly_with_details(
    qtbot: QtBot, context: AppContext
) -> None:
    with FakeVerdigris(circuits=["100"]) as fake:
        config = VerdigrisConfig(client_id=fake.client_id, circuits=["100"], interval="1h",
                                 kinds=["energy"], auth_url=fake.token_url,
                                 api_url=fake.url)  # fmt: skip
        JobStore(context.jobs_file).save("campus", "verdigris", config.to_dict(),
                                         timedelta(minutes=15), datetime.now(UTC))  # fmt: skip
        context.secrets.set(secret_name(fake.client_id), "not-the-secret")
        dialog = PullRangeDialog(context, "campus")
        qtbot.addWidget(dialog)
        dialog.start()
        qtbot.waitUntil(lambda: dialog.status.text().startswith("Not pulled: "), timeout=30_000)
    assert "\n" not in dialog.status.text() and "not-the-secret" not in dialog.status.text()
