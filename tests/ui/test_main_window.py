"""The main window over a real journal and job store: dashboard, activity, dead letters, log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pandas as pd
from pytestqt.qtbot import QtBot

from app.core.jobs import JobOutcome, JobStore
from app.core.journal import Journal
from app.ui.context import AppContext
from app.ui.log_viewer import setup_logging
from app.ui.main_window import MainWindow
from connectors.base import make_readings


def _readings(source_id: str, n: int) -> pd.DataFrame:
    times = pd.date_range("2026-03-29 00:30", periods=n, freq="30min", tz="Europe/London")
    return make_readings(source_id=source_id, time=times, value=range(n), interval_s=1800)


def _window(qtbot: QtBot, context: AppContext) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    return window


def test_title_and_empty_dashboard(qtbot: QtBot, context: AppContext) -> None:
    window = _window(qtbot, context)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000) as shown:
        window.refresh()
    assert window.windowTitle().startswith("meterbridge")
    assert shown.args[0].sources == []
    assert not window.sources.hint.isHidden()
    assert "No sources yet" in window.sources.hint.text()
    assert not window.activity.hint.isHidden()


def test_dashboard_shows_sources_counts_and_dead_letters(qtbot: QtBot, context: AppContext) -> None:
    journal = Journal(context.paths.journal_file)
    journal.accept(_readings("MPAN1", 10), source="site-a")
    pending = journal.pending(limit=3)
    journal.reject({int(i): "meter MPAN1 unknown in EnergyCAP" for i in pending["id"]})
    journal.close()
    store = JobStore(context.jobs_file)
    now = datetime.now(UTC)
    store.save("verdigris-campus", "verdigris", {"ids": ["1"]}, timedelta(minutes=15), now)
    outcome = JobOutcome(ok=False, message="Verdigris refused the client secret")
    store.record_run("verdigris-campus", now, now, outcome)
    window = _window(qtbot, context)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh()
    table = window.sources.table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert set(rows) == {"site-a", "verdigris-campus"}
    a = rows["site-a"]
    assert (table.item(a, 5).text(), table.item(a, 7).text()) == ("7", "3")
    assert table.item(a, 2).text() == "needs attention"
    v = rows["verdigris-campus"]
    assert table.item(v, 2).text() == "failed"
    assert table.item(v, 8).text() == "Verdigris refused the client secret"
    assert window.dead.table.rowCount() == 3
    assert "unknown in EnergyCAP" in window.dead.table.item(0, 5).text()
    assert window.tabs.tabText(2).endswith("(3)")


def test_replay_requeues_dead_letters(qtbot: QtBot, context: AppContext) -> None:
    journal = Journal(context.paths.journal_file)
    journal.accept(_readings("MPAN2", 4), source="site-b")
    journal.reject({int(i): "no channel" for i in journal.pending(limit=4)["id"]})
    journal.close()
    window = _window(qtbot, context)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh()
    window.dead.table.selectRow(0)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000) as shown:
        window.dead.replay_button.click()
    assert shown.args[0].dead_letters == []
    assert "4 refused reading(s) queued again" in window.banner.label.text()
    journal = Journal(context.paths.journal_file)
    assert journal.counts()["pending"] == 4
    journal.close()


def test_log_viewer_shows_the_log_file(qtbot: QtBot, context: AppContext) -> None:
    path = setup_logging(context.paths.log_dir)
    logging.getLogger("app.test").warning("delivery to EnergyCAP failed: host unreachable")
    logging.getLogger("app.test").info("a routine line")
    window = _window(qtbot, context)
    window.tabs.setCurrentWidget(window.log_viewer)
    window.log_viewer.level.setCurrentText("WARNING")
    text = window.log_viewer.text.toPlainText()
    assert "host unreachable" in text
    assert "a routine line" not in text
    assert window.log_viewer.path == path
