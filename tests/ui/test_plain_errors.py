"""Errors in one plain sentence, the technical detail behind “Details…”, wherever they show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pytestqt.qtbot import QtBot

from app.core.pulls.jobs import JobOutcome
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.plain_errors import plain_and_details, plain_refusals, refusal_reason
from app.ui.preview.window import PreviewWindow
from app.ui.window.main_window import MainWindow
from app.ui.wizards.source_wizard import DESTINATION, SourceWizard
from connectors.registry import Candidate
from tests.fakes.energycap import FakeEnergyCap
from tests.ui.test_destination_page import _to_destination, _wizard

CLIENT_WORDS = (
    "did not answer GET /api/v3/timezone after 2 attempts (last: connection failed "
    "(ConnectionError))"
)


def test_a_technical_message_becomes_a_plain_sentence_and_keeps_its_detail() -> None:
    plain, details = plain_and_details(CLIENT_WORDS, "The pull of “Site A” failed")
    assert plain == (
        "The pull of “Site A” failed: the server could not be reached: check the address "
        "and the network."
    )
    assert details == CLIENT_WORDS


def test_a_plain_message_is_kept_as_it_is() -> None:
    text = "Verdigris refused the client id or client secret: check them and try again."
    assert plain_and_details(text) == (text, "")
    assert plain_and_details(text, "Not listed") == (f"Not listed: {text}", "")


def test_a_message_made_plain_already_splits_at_its_details() -> None:
    made = "EnergyCAP refused the key: check it.\n\nDetails: HTTP 401 from /api/v3/me"
    assert plain_and_details(made) == (
        "EnergyCAP refused the key: check it.",
        "HTTP 401 from /api/v3/me",
    )


@settings(max_examples=200, deadline=None)
@given(message=st.text(max_size=400), what=st.sampled_from(["", "Not listed", "“A” failed"]))
def test_any_message_gives_one_line_and_loses_nothing(message: str, what: str) -> None:
    plain, details = plain_and_details(message, what)
    assert plain and "\n" not in plain and "Traceback" not in plain
    if message.strip() and plain.removeprefix(f"{what}: ") != message.strip():
        assert details  # whatever was shortened or replaced is kept for Details…
    assert len(plain) <= 300


def test_a_failed_pull_says_why_in_the_banner_with_details(
    qtbot: QtBot, context: AppContext
) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    # An outcome with no kind (None: as a run recorded before kinds were kept) is read
    # for one; real failures carry theirs (tests/ui/test_typed_errors.py).
    window.actions_.sources.reports.finished.emit("Meters", JobOutcome(False, CLIENT_WORDS))
    qtbot.waitUntil(lambda: window.banner.isVisible())
    assert window.banner.label.text() == (
        "“Meters” failed: the server could not be reached: check the address and the network."
    )
    assert window.banner.details_button.isVisible()
    box = window.banner.show_details()
    assert box.detailedText() == CLIENT_WORDS
    box.close()


def test_a_file_that_cannot_be_read_says_why_with_details(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    page = tmp_path / "export.csv"
    page.write_text("<html><body>Your session has expired</body></html>\n", encoding="utf-8")
    window = PreviewWindow(
        page, [Candidate(context.registry.get("uk-hh"), 0.5)], context.mapping_table()
    )
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.load_failed, timeout=30_000):
        window.start()
    assert window.message.text().startswith("Cannot read this file: ")
    assert str(tmp_path) not in window.message.text()  # the file's name, not its whole path
    assert "\n" not in window.message.text()
    assert window.details_button.isVisible() and str(page) in window.details


def run_key_test(qtbot: QtBot, context: AppContext, tmp_path: Path) -> tuple[SourceWizard, Any]:
    """A generic-source wizard and its destination page, after the key test has answered
    (the caller keeps the wizard, which owns the page)."""
    wizard = _wizard(qtbot, SourceWizard(context, "generic"))
    _to_destination(qtbot, wizard, tmp_path)
    page = wizard.page(DESTINATION)
    page.test.click()
    qtbot.waitUntil(lambda: page.result.text() not in ("", "Testing…"), timeout=60_000)
    return wizard, page


def test_the_wizards_key_test_says_a_refused_key_plainly_with_details(
    qtbot: QtBot, context: AppContext, tmp_path: Path, energycap: FakeEnergyCap
) -> None:
    context.settings.energycap.url = energycap.url
    context.secrets.set(API_KEY_SECRET, "not-the-key")
    context.save()
    _wizard_kept, page = run_key_test(qtbot, context, tmp_path)
    assert (
        page.result.text()
        == "EnergyCAP refused the key: check it, and that it was made on this host."
    )
    assert page.result.details_button.isVisible() and page.result.details
    assert "Details" not in page.result.text() and "not-the-key" not in page.result.details


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=6), st.integers(0, 10**6))
def test_refusal_reasons_always_give_one_sentence_never_raise(reasons: list[str], n: int) -> None:
    plain, details = plain_refusals(reasons, n)
    assert plain.startswith(f"EnergyCAP refused {n:,} reading(s)")
    assert len(plain.splitlines()) == 1
    assert details == "" or all(r.strip() in details for r in reasons)
    for reason in reasons:  # a Dead letters cell: one line, never raises
        assert len(refusal_reason(reason).splitlines()) <= 1
