"""Held values in the main window: local time and UTC, sent or kept by keyboard, notified."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.delivery import deliver_pending
from app.core.journal import Journal
from app.core.journal_held import held_decisions
from app.ui.application import app_icon
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.tray import Tray
from tests.core.test_delivery import FAST, MAPPING, at_fake, client_for, day, expected
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
    table = window.held.table
    return next(r for r in range(table.rowCount()) if table.item(r, 3).text() == utc_text)


def test_held_values_show_local_time_with_offset_and_utc(
    qtbot: QtBot, context: AppContext, held_journal: Journal
) -> None:
    window = _window(qtbot, context)
    assert _loaded(qtbot, window) == 50
    index = window.tabs.indexOf(window.held)
    assert window.tabs.tabText(index) == "Held &values (50)"
    table = window.held.table
    first = _row_at(window, "2026-10-25 00:00 UTC")  # the first 01:00 of the day, BST
    second = _row_at(window, "2026-10-25 01:00 UTC")  # the second 01:00, GMT
    assert table.item(first, 2).text() == "2026-10-25 01:00 BST (UTC+01:00)"
    assert table.item(second, 2).text() == "2026-10-25 01:00 GMT (UTC+00:00)"
    assert (table.item(first, 0).text(), table.item(first, 1).text()) == ("hh", "MPAN1 kWh")
    old = dict(zip(day("MPAN1")["time"], day("MPAN1")["value"], strict=True))
    new = dict(zip(day("MPAN1", base=7.0)["time"], day("MPAN1", base=7.0)["value"], strict=True))
    moment = held_decisions(held_journal)["time"].iloc[first]
    assert float(table.item(first, 4).text()) == old[moment]
    assert float(table.item(first, 5).text()) == new[moment]
    assert "changed this value after it was delivered" in table.item(first, 6).text()
    window.held.zone = ZoneInfo("America/New_York")
    _loaded(qtbot, window)
    assert table.item(first, 2).text() == "2026-10-24 20:00 EDT (UTC-04:00)"
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
    qtbot.waitUntil(lambda: panel.table.rowCount() == 48, timeout=10_000)


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
    qtbot.waitUntil(lambda: panel.table.rowCount() == 0, timeout=10_000)
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
