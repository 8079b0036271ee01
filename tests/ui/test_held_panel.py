"""Held values in the main window: local time and UTC, sent or kept by keyboard, notified."""

from __future__ import annotations

import sys
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.delivery.engine import deliver_pending
from app.core.journal.held import held_decisions
from app.core.journal.store import Journal
from app.ui.application import app_icon
from app.ui.context import AppContext
from app.ui.tray import Tray
from app.ui.window import held_panel
from app.ui.window.main_window import MainWindow
from tests.core.delivery.test_delivery import FAST, MAPPING, at_fake, client_for, day, expected
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.ui.test_accessibility import unnamed_controls

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def held_journal(context: AppContext, energycap: FakeEnergyCap) -> Journal:
    """MPAN1's clock-change day (25 Oct 2026) delivered, then changed by its source: 50 held."""
    energycap.add_meter(1, "M1", [FakeChannel(11, "C11", "Use", "kWh", 1800)], "Europe/London")
    journal = Journal(context.paths.journal_file)
    journal.accept(day("MPAN1"), source="hh")
    deliver_pending(journal, client_for(energycap), FAST, MAPPING)
    assert journal.accept(day("MPAN1", base=7.0), source="hh").changed_held == 50
    return journal


def _window(qtbot: QtBot, context: AppContext) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.held.zone = LONDON
    window.show()
    return window


def _loaded(qtbot: QtBot, window: MainWindow) -> int:
    with qtbot.waitSignal(window.held.counted, timeout=10_000) as counted:
        window.held.refresh()
    return int(counted.args[0])


def _row_at(window: MainWindow, utc_text: str) -> int:
    rows = window.held.model.rows
    return next(r for r, cells in enumerate(rows) if cells[3] == utc_text)


def _cell(window: MainWindow, row: int, column: int) -> str:
    model = window.held.model
    return str(model.data(model.index(row, column)))


def test_held_values_show_local_time_with_offset_and_utc(
    qtbot: QtBot, context: AppContext, held_journal: Journal
) -> None:
    window = _window(qtbot, context)
    assert _loaded(qtbot, window) == 50
    index = window.tabs.indexOf(window.held)
    assert window.tabs.tabText(index) == "Held &values (50)"
    first = _row_at(window, "2026-10-25 00:00 UTC")  # the first 01:00 of the day, BST
    second = _row_at(window, "2026-10-25 01:00 UTC")  # the second 01:00, GMT
    assert _cell(window, first, 2) == "2026-10-25 01:00 BST (UTC+01:00)"
    assert _cell(window, second, 2) == "2026-10-25 01:00 GMT (UTC+00:00)"
    assert (_cell(window, first, 0), _cell(window, first, 1)) == ("hh", "MPAN1 kWh")
    old = dict(zip(day("MPAN1")["time"], day("MPAN1")["value"], strict=True))
    new = dict(zip(day("MPAN1", base=7.0)["time"], day("MPAN1", base=7.0)["value"], strict=True))
    moment = held_decisions(held_journal)["time"].iloc[first]
    assert float(_cell(window, first, 4)) == old[moment]
    assert float(_cell(window, first, 5)) == new[moment]
    assert "changed this value after it was delivered" in _cell(window, first, 6)
    window.held.zone = ZoneInfo("America/New_York")
    window.held.refresh()  # a load already running is followed by one in the new zone
    qtbot.waitUntil(lambda: _cell(window, first, 2) == "2026-10-24 20:00 EDT (UTC-04:00)")
    assert unnamed_controls(window.held) == []


def test_send_selected_by_keyboard_overwrites_only_those(
    qtbot: QtBot, context: AppContext, held_journal: Journal, energycap: FakeEnergyCap
) -> None:
    window = _window(qtbot, context)
    _loaded(qtbot, window)
    panel = window.held
    window.tabs.setCurrentWidget(panel)
    assert not panel.send.isEnabled()  # nothing chosen yet
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(panel.table, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert len(panel.selected_ids()) == 2 and panel.send.isEnabled()
    with qtbot.waitSignal(panel.decided, timeout=10_000) as decided:
        qtbot.keyClick(panel.send, Qt.Key.Key_Space)
    assert decided.args == ["send", 2]
    assert "2 held reading(s) queued to replace EnergyCAP's values" in panel.result.text()
    deliver_pending(held_journal, client_for(energycap), FAST, MAPPING)
    changed, kept = expected(day("MPAN1", base=7.0)), expected(day("MPAN1"))
    assert at_fake(energycap, 11) == changed[:2] + kept[2:]
    qtbot.waitUntil(lambda: panel.model.rowCount() == 48, timeout=10_000)


def test_keep_all_discards_and_nothing_is_sent(
    qtbot: QtBot, context: AppContext, held_journal: Journal, energycap: FakeEnergyCap
) -> None:
    window = _window(qtbot, context)
    _loaded(qtbot, window)
    panel = window.held
    window.tabs.setCurrentWidget(panel)
    qtbot.keyClick(panel.select_all, Qt.Key.Key_Space)
    assert len(panel.selected_ids()) == 50
    with qtbot.waitSignal(panel.decided, timeout=10_000):
        qtbot.keyClick(panel.discard, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=10_000)
    assert window.tabs.tabText(window.tabs.indexOf(panel)) == "Held &values"
    assert held_decisions(held_journal).empty
    before = len(energycap.requests)
    report = deliver_pending(held_journal, client_for(energycap), FAST, MAPPING)
    assert report.confirmed == 0 and len(energycap.requests) == before
    assert at_fake(energycap, 11) == expected(day("MPAN1"))


def test_tray_notifies_once_and_the_click_opens_the_held_values(
    qtbot: QtBot, context: AppContext, held_journal: Journal
) -> None:
    window = _window(qtbot, context)
    tray = Tray(window, app_icon())
    window.hide()
    with qtbot.waitSignal(window.held.counted, timeout=10_000):
        window.refresh()  # the periodic refresh re-reads the held values too
    assert not tray.notice_held(50)  # told already, by the refresh above
    tray.messageClicked.emit()
    assert window.isVisible()
    assert window.tabs.currentWidget() is window.held
    assert tray.notice_held(51)  # one more: told again


def test_select_all_on_a_clipped_list_acts_on_every_held_reading(
    qtbot: QtBot,
    context: AppContext,
    held_journal: Journal,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(held_panel, "LIST_LIMIT", 20)  # 50 held, 20 listed
    window = _window(qtbot, context)
    assert _loaded(qtbot, window) == 20
    panel = window.held
    assert "Select all acts on all" in panel.summary.text()
    window.tabs.setCurrentWidget(panel)
    qtbot.keyClick(panel.select_all, Qt.Key.Key_Space)
    with qtbot.waitSignal(panel.decided, timeout=10_000) as decided:
        qtbot.keyClick(panel.send, Qt.Key.Key_Space)
    assert decided.args == ["send", 50]
    assert held_decisions(held_journal).empty


def test_ten_thousand_rows_cost_no_call_per_row(qtbot: QtBot, context: AppContext) -> None:
    """PySide6 6.12 on Python 3.11 drops a reference to None on every call of a void
    method; a list built with one call per cell would exhaust None (abort) on big lists."""
    panel = held_panel.HeldPanel(context.paths.journal_file, zone=LONDON)
    qtbot.addWidget(panel)
    panel.show()
    times = pd.date_range("2026-03-29", periods=10_000, freq="30min", tz="UTC")
    frame = pd.DataFrame({"source": "hh", "source_id": "MPAN1", "quantity": "kWh", "time": times,
                          "delivered": 1.5, "new": 2.5, "reason": "changed"})  # fmt: skip
    rows = [held_panel.held_cells(r, LONDON) for r in frame.itertuples()]
    before = sys.getrefcount(None)
    panel.show_held((list(range(10_000)), rows))
    assert abs(sys.getrefcount(None) - before) < 200
    assert panel.model.rowCount() == 10_000
    assert panel.model.data(panel.model.index(0, 2)) == "2026-03-29 00:00 GMT (UTC+00:00)"
    assert panel.model.data(panel.model.index(2, 2)) == "2026-03-29 02:00 BST (UTC+01:00)"


def test_the_repeated_hour_of_a_us_fall_back_day_is_told_apart() -> None:
    new_york = ZoneInfo("America/New_York")
    times = pd.to_datetime(["2026-11-01T05:30Z", "2026-11-01T06:30Z"], utc=True)
    frame = pd.DataFrame({"source": "acurev", "source_id": "AR-1", "quantity": "kWh",
                          "time": times, "delivered": float("nan"), "new": 4.25,
                          "reason": "differs"})  # fmt: skip
    first, second = (held_panel.held_cells(r, new_york) for r in frame.itertuples())
    assert first[2:6] == ("2026-11-01 01:30 EDT (UTC-04:00)", "2026-11-01 05:30 UTC", "unknown",
                          "4.25")  # fmt: skip
    assert second[2:4] == ("2026-11-01 01:30 EST (UTC-05:00)", "2026-11-01 06:30 UTC")


def test_a_refresh_asked_during_a_load_is_not_lost(
    qtbot: QtBot, context: AppContext, held_journal: Journal
) -> None:
    """The zone changed while a load ran: the panel loads again and shows the new zone."""
    window = _window(qtbot, context)
    _loaded(qtbot, window)
    first = _row_at(window, "2026-10-25 00:00 UTC")
    qtbot.waitUntil(lambda: window.held._loader is None)  # no load running now
    assert window.held.refresh() is not None  # a load in London time runs
    window.held.zone = ZoneInfo("America/New_York")
    assert window.held.refresh() is None  # asked while it runs: remembered, not started
    qtbot.waitUntil(lambda: _cell(window, first, 2) == "2026-10-24 20:00 EDT (UTC-04:00)")
