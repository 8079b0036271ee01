"""Tray: closing hides (work goes on), failures are notified once, a click opens the problem."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.ui.application import app_icon
from app.ui.context import AppContext
from app.ui.snapshot import Snapshot, SourceRow
from app.ui.tray import Tray, problems_in
from app.ui.window.main_window import MainWindow


def _with_tray(qtbot: QtBot, context: AppContext) -> tuple[MainWindow, Tray]:
    window = MainWindow(context)
    qtbot.addWidget(window)
    tray = Tray(window, app_icon())
    window.show()
    return window, tray


def test_close_hides_to_tray_and_keeps_running(qtbot: QtBot, context: AppContext) -> None:
    window, _tray = _with_tray(qtbot, context)
    with qtbot.waitSignal(window.hidden_to_tray):
        assert not window.close()  # the close is refused: the window only hides
    assert window.isHidden()
    assert window.refresh_timer.isActive()  # background work goes on
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh_timer.timeout.emit()
    window.bring_to_front()
    assert window.isVisible()


def test_quit_really_closes(qtbot: QtBot, context: AppContext) -> None:
    window, _tray = _with_tray(qtbot, context)
    window.quitting = True
    assert window.close()


def test_without_tray_preference_close_closes(qtbot: QtBot, context: AppContext) -> None:
    window, _tray = _with_tray(qtbot, context)
    context.prefs.close_to_tray = False
    assert window.close()


def test_failures_are_notified_once_and_clicking_opens_them(
    qtbot: QtBot, context: AppContext
) -> None:
    window, tray = _with_tray(qtbot, context)
    window.hide()
    failing = Snapshot(
        sources=[SourceRow("verdigris", "verdigris", "failed", last_error="token refused")],
        dead_letters=[{"source": "site-a", "reason": "unknown meter"}],
    )
    assert tray.notice(failing) == [
        "verdigris: token refused",
        "EnergyCAP refused 1 reading(s); see Dead letters.",
    ]
    assert tray.notice(failing) == []  # already told
    tray.messageClicked.emit()
    assert window.isVisible()
    assert window.tabs.currentIndex() == 2
    assert problems_in(Snapshot(sources=[SourceRow("ok", "uk-hh", "up to date")])) == []


def test_held_pushes_are_notified_once_per_device_and_open_the_dashboard(
    qtbot: QtBot, context: AppContext
) -> None:
    window, tray = _with_tray(qtbot, context)
    window.tabs.setCurrentIndex(2)
    messages: list[str] = []
    tray.showMessage = lambda _title, text, *_a: messages.append(text)  # type: ignore[method-assign]
    window.held_pushes.counted.emit({"gw1": 3})
    assert tray.notice_held_pushes({"gw1": 12}) == []  # more of the same: already told
    assert len(messages) == 1 and "gw1" in messages[0] and "3 push(es) held" in messages[0]
    assert tray.notice_held_pushes({"gw1": 12, "rev": 1}) == ["rev"]
    assert tray.notice_held_pushes({"rev": 1}) == []  # gw1 was mapped
    assert tray.notice_held_pushes({"gw1": 2, "rev": 1}) == ["gw1"]  # new ones after that
    tray.messageClicked.emit()
    assert window.isVisible() and window.tabs.currentIndex() == 0


def test_a_service_that_cannot_run_is_notified(qtbot: QtBot, context: AppContext) -> None:
    window, tray = _with_tray(qtbot, context)
    notes = ["Push listener not running: address already in use", "Delivering to https://x"]
    assert tray.notice_services(notes) == [notes[0]]
    tray.messageClicked.emit()
    assert window.tabs.currentIndex() == 3  # the log says more


def test_double_click_on_a_source_opens_its_problem(qtbot: QtBot, context: AppContext) -> None:
    window, _tray = _with_tray(qtbot, context)
    window.show_snapshot(Snapshot(sources=[
        SourceRow("push:site-b", "episensor", "needs attention", rejected=2),
        SourceRow("verdigris", "verdigris", "failed", last_error="token refused"),
    ]))  # fmt: skip
    window.sources.table.cellDoubleClicked.emit(0, 0)
    assert window.tabs.currentIndex() == 2
    window.sources.table.cellDoubleClicked.emit(1, 0)
    assert window.tabs.currentIndex() == 3


def test_tooltip_and_menu_say_how_things_are(qtbot: QtBot, context: AppContext) -> None:
    window, tray = _with_tray(qtbot, context)
    snap = Snapshot(sources=[SourceRow("a", "uk-hh", "up to date"),
                             SourceRow("b", "uk-hh", "needs attention", rejected=96),
                             SourceRow("c", "sftp", "up to date")])  # fmt: skip
    window.snapshot_shown.emit(snap)
    assert tray.toolTip() == "meterbridge — 2 sources OK · 1 needs attention · 96 refused"
    texts = [a.text() for a in tray.menu.actions() if a.text()]
    assert texts == ["2 sources OK · 1 needs attention · 96 refused", "&Show meterbridge",
                     "&Open file…", "&Deliver now", "&Quit"]  # fmt: skip
    paused = Snapshot(sources=[SourceRow("a", "uk-hh", "delivery paused", pending=48)],
                      paused="Delivery paused: EnergyCAP refused the API key.")  # fmt: skip
    window.snapshot_shown.emit(paused)
    assert tray.toolTip() == "meterbridge — Delivery paused · 48 waiting"


def test_hiding_to_the_tray_is_explained_once(qtbot: QtBot, context: AppContext) -> None:
    window, tray = _with_tray(qtbot, context)
    window.close()
    assert (context.paths.config_dir / "tray-notice-shown").exists()
    assert not tray.notice_hidden()  # never again


def test_with_no_tray_closing_with_work_pending_asks_first(
    qtbot: QtBot, context: AppContext
) -> None:
    import socket

    import pandas as pd

    from app.cli.gui.services import GuiServices
    from connectors.base import make_readings

    with socket.socket() as probe:  # a free loopback port for the real listener
        probe.bind(("127.0.0.1", 0))
        context.settings.listener.port = int(probe.getsockname()[1])
    context.save()
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    services = GuiServices(context.paths, context.secrets)  # not connected: readings wait
    window.attach_services(services)
    try:
        times = pd.date_range("2026-03-29 00:30", periods=48, freq="30min", tz="Europe/London")
        readings = make_readings(source_id="M1", time=times, value=range(48), interval_s=1800)
        services.journal.accept(readings, source="site-a")
        assert not window.close()
        box = window.close_question
        assert "48 reading(s) are not delivered" in box.informativeText()
        assert "devices can no longer push" in box.informativeText()
        assert window.isVisible()
        next(b for b in box.buttons() if b.text() == "&Keep running").click()
        assert window.isVisible()
    finally:
        services.stop()
    window.services = None
    assert window.close()
