"""Mapping editor × EnergyCAP lists: 3,000 meters in a few paged requests, off the GUI thread,
with progress, cancel, a session cache and Refresh; import ids read per opened meter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.mapping.catalog import forget_session
from app.ui.mapping.editor import COLUMN, MappingEditor
from tests.core.energycap.test_ecap_catalog import add_meters
from tests.fakes.energycap import FakeEnergyCap
from tests.ui.test_accessibility import unnamed_controls


@pytest.fixture
def connected(context: AppContext, energycap: FakeEnergyCap) -> Iterator[FakeEnergyCap]:
    """The context points at the fake (3,000 meters) with a working key; no cached lists."""
    add_meters(energycap, 3000)
    context.settings.energycap.url = energycap.url
    context.secrets.set(API_KEY_SECRET, "test-key")
    forget_session()
    yield energycap
    forget_session()


def _editor(qtbot: QtBot, context: AppContext) -> MappingEditor:
    editor = MappingEditor(context)
    qtbot.addWidget(editor)
    editor.show()
    return editor


def _type_filter(qtbot: QtBot, editor: MappingEditor, text: str) -> None:
    editor.pane.filter.setFocus()
    qtbot.keyClick(editor.pane.filter, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor.pane.filter, text)


def _meter_pages(fake: FakeEnergyCap) -> int:
    return sum(1 for r in fake.requests if r.path == "/api/v3/meter")


def test_a_big_account_loads_in_a_few_requests_without_freezing(
    qtbot: QtBot, context: AppContext, connected: FakeEnergyCap
) -> None:
    """The load runs off the GUI thread: the event loop keeps turning and typing is taken
    while the lists come in. (How long the GUI thread pauses is measured by
    tests/bench/bench_mapping_catalog.py, not here: a timed test fails on a busy machine.)"""
    editor = _editor(qtbot, context)
    # Each page of meters takes 0.2 s to come (a real server's pace): loading lasts long
    # enough that a GUI thread left free turns its loop many times, even on a busy machine,
    # while a GUI thread doing the work itself would turn it once.
    connected.inject("/api/v3/meter", status=None, times=None, delay_s=0.2)
    turns = [0]  # event-loop turns between the click and the lists arriving
    idle = QTimer(interval=0)  # fires once per turn of the event loop
    idle.timeout.connect(lambda: turns.__setitem__(0, turns[0] + 1))
    loaded_after: list[int] = []
    editor.catalog_loaded.connect(lambda _c: loaded_after.append(turns[0]))
    idle.start()
    try:
        qtbot.keyClick(editor.fetch, Qt.Key.Key_Space)
        # The click returned before the lists came: the work is elsewhere, shown with Cancel.
        assert loaded_after == [] and editor.pane.cancel_button.isVisible()
        assert editor.pane.progress.isVisible()
        qtbot.keyClicks(editor.pane.filter, "zz")  # the user types while it loads
        qtbot.waitUntil(lambda: loaded_after != [], timeout=30_000)
    finally:
        idle.stop()
    assert loaded_after[0] >= 5, f"the event loop turned only {loaded_after[0]} times"
    assert editor.pane.filter.text() == "zz"
    assert _meter_pages(connected) == 3 and len(connected.requests) == 5
    editor.pane.filter.clear()
    qtbot.waitUntil(lambda: editor.pane.shown_count() == 3000)
    assert "3,000 meter(s) loaded from EnergyCAP in 5 requests" in editor.catalog_state.text()
    assert not editor.pane.progress.isVisible()
    assert editor.fetch.accessibleName() == "Refresh from EnergyCAP"
    assert unnamed_controls(editor) == []


def test_reopening_uses_the_session_copy_and_refresh_reads_again(
    qtbot: QtBot, context: AppContext, connected: FakeEnergyCap
) -> None:
    first = _editor(qtbot, context)
    with qtbot.waitSignal(first.catalog_loaded, timeout=30_000):
        first.fetch_catalog()
    first.close()
    before = len(connected.requests)
    again = _editor(qtbot, context)
    assert again.pane.shown_count() == 3000 and len(connected.requests) == before
    assert "read earlier this session" in again.catalog_state.text()
    assert "Demand" in again.obs_delegate.codes  # the code pickers are filled too
    with qtbot.waitSignal(again.catalog_loaded, timeout=30_000):
        qtbot.keyClick(again.fetch, Qt.Key.Key_Space)  # Refresh
    assert _meter_pages(connected) == 6


def test_cancel_keeps_what_was_shown(
    qtbot: QtBot, context: AppContext, connected: FakeEnergyCap
) -> None:
    editor = _editor(qtbot, context)
    connected.inject("/api/v3/meter", status=None, times=None, delay_s=0.3)
    worker = editor.fetch_catalog()
    assert worker is not None
    with qtbot.waitSignal(worker.signals.cancelled, timeout=30_000):
        qtbot.keyClick(editor.pane.cancel_button, Qt.Key.Key_Space)
    assert _meter_pages(connected) <= 1  # stopped before the next page
    assert editor.catalog_state.text().startswith("Cancelled: nothing new was read.")
    assert editor.pane.shown_count() == 0 and editor.fetch.isEnabled()


def test_filter_then_open_a_meter_and_map_by_its_import_id(
    qtbot: QtBot, context: AppContext, connected: FakeEnergyCap
) -> None:
    editor = _editor(qtbot, context)
    with qtbot.waitSignal(editor.catalog_loaded, timeout=30_000):
        editor.fetch_catalog()
    _type_filter(qtbot, editor, "m2999 ")
    qtbot.waitUntil(lambda: editor.pane.shown_meters() == ["M2999"], timeout=5_000)
    pane = editor.pane
    assert pane.channel_text(2998, 0, 1) == ""  # import ids are read when the meter is opened
    with qtbot.waitSignal(pane.channels_loaded, timeout=10_000):
        pane.expand_meter(2998)
    assert [r.path for r in connected.requests[-1:]] == ["/api/v202101/meter/2999/channel"]
    assert (pane.channel_text(2998, 0, 1), pane.channel_text(2998, 0, 2)) == ("C2999-KWH", "Use")
    _type_filter(qtbot, editor, "c2999-kw")  # a channel's import id keeps its meter
    qtbot.waitUntil(lambda: pane.shown_meters() == ["M2999"], timeout=5_000)
    row = editor.add_row({"source_id": "MPAN-2999", "quantity": "kWh"})
    pane.select_channel(2998, 0)
    editor.tree.setFocus()
    qtbot.keyClick(editor.tree, Qt.Key.Key_Return)  # Enter uses the channel for the row
    assert editor.table.item(row, COLUMN["channel_import_id"]).text() == "C2999-KWH"
    assert editor.table.item(row, COLUMN["unit"]).text() == "kWh"


def test_a_wrong_key_says_so_plainly(
    qtbot: QtBot, context: AppContext, connected: FakeEnergyCap
) -> None:
    context.secrets.set(API_KEY_SECRET, "wrong-key")
    editor = _editor(qtbot, context)
    worker = editor.fetch_catalog()
    assert worker is not None
    with qtbot.waitSignal(worker.signals.finished, timeout=30_000):
        pass
    assert "refused the API key" in editor.catalog_state.text()
    assert "wrong-key" not in editor.catalog_state.text()


def test_a_channel_of_an_unopened_meter_is_mapped_by_its_import_id(
    qtbot: QtBot, context: AppContext, connected: FakeEnergyCap
) -> None:
    editor = _editor(qtbot, context)
    with qtbot.waitSignal(editor.catalog_loaded, timeout=30_000):
        editor.fetch_catalog()
    row = editor.add_row({"source_id": "MPAN-6", "quantity": "kW"})
    editor.pane.select_channel(5, 1)  # meter M6's demand channel, its import id not read yet
    editor.use.setFocus()
    with qtbot.waitSignal(editor.pane.channels_loaded, timeout=10_000):
        qtbot.keyClick(editor.use, Qt.Key.Key_Space)
    assert editor.table.item(row, COLUMN["channel_import_id"]).text() == "C6-KW"
    assert editor.table.item(row, COLUMN["channel_id"]).text() == ""
    assert (editor.table.item(row, COLUMN["observation_type"]).text(),
            editor.table.item(row, COLUMN["unit"]).text()) == ("Demand", "kW")  # fmt: skip
    assert editor.status.text() == "Row 1 points at channel 200006."
