"""A delivery pause (a wrong key: EnergyCAP answers 401) raises one tray notification, not one
per source or per refresh; the dashboard rows say why, and a click opens the dashboard."""

from __future__ import annotations

import pandas as pd
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from app.cli.gui.services import GuiServices
from app.core.journal.store import Journal
from app.ui.application import app_icon
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.snapshot import PAUSED, Snapshot
from app.ui.tray import Tray
from app.ui.window.main_window import MainWindow
from connectors.base import make_readings
from tests.fakes.energycap import FakeEnergyCap
from tests.ports import free_port


def _journal_two_sources(context: AppContext) -> None:
    """Two dropped files' readings wait in the journal (as Send in the preview leaves them)."""
    times = pd.date_range("2026-03-29 00:30", periods=4, freq="30min", tz="Europe/London")
    journal = Journal(context.paths.journal_file)
    try:
        for source, meter in (("uk-hh", "MPAN-1"), ("stark-df2", "MPAN-2")):
            readings = make_readings(source_id=meter, time=times, value=range(4), interval_s=1800)
            journal.accept(readings, source=source)
    finally:
        journal.close()


def test_a_wrong_key_raises_exactly_one_tray_notification(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap
) -> None:
    context.settings.energycap.url = energycap.url
    context.settings.listener.port = free_port()
    context.save()
    context.secrets.set(API_KEY_SECRET, "a-wrong-key")
    _journal_two_sources(context)
    window = MainWindow(context)
    qtbot.addWidget(window)
    tray = Tray(window, app_icon())
    shown: list[tuple[str, str, QSystemTrayIcon.MessageIcon]] = []
    # What the tray shows, kept instead of shown (offscreen has no notification area).
    tray.showMessage = lambda title, text, icon, *_a: shown.append(  # type: ignore[method-assign]
        (title, text, icon)
    )
    window.show()
    services = GuiServices(context.paths, context.secrets)
    window.attach_services(services)
    snapshots: list[Snapshot] = []
    window.snapshot_shown.connect(snapshots.append)
    try:

        def paused_on_both_rows() -> bool:
            window.refresh()
            last = snapshots[-1] if snapshots else None
            return last is not None and sum(r.state == PAUSED for r in last.sources) == 2

        qtbot.waitUntil(paused_on_both_rows, timeout=30_000)
        for _ in range(3):  # later refreshes (the timer's) tell nothing new
            with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
                window.refresh()
        assert [(title, icon) for title, _text, icon in shown] == [
            ("meterbridge needs attention", QSystemTrayIcon.MessageIcon.Warning)
        ]
        assert "refused the API key" in shown[0][1]
        window.hide()
        tray.messageClicked.emit()
        assert window.isVisible() and window.tabs.currentIndex() == 0  # the rows that wait
    finally:
        services.stop()
