"""Build the Qt application and its object graph, and run it."""

from __future__ import annotations

import gc
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from app import __version__
from app.core.paths import AppPaths, resolve_paths
from app.core.preview.process import warm_up
from app.core.resources import resource_path
from app.ui.context import AppContext
from app.ui.main_thread_gc import install as collect_on_gui_thread
from app.ui.pyside_refs import guard
from app.ui.single_instance import SingleInstance, ask_running_instance, server_name
from app.ui.theme import apply_theme, follow_os
from app.ui.tray import Tray
from app.ui.window.log_viewer import setup_logging
from app.ui.window.main_window import MainWindow

log = logging.getLogger(__name__)


def app_icon() -> QIcon:
    """The app icon from resources/ (an empty icon if the file is missing)."""
    for name in ("meterbridge.svg", "meterbridge.png", "meterbridge.ico"):
        path = resource_path(name)
        if path.exists():
            return QIcon(str(path))
    return QIcon()


@dataclass
class Running:
    """The objects of a running app (kept alive together)."""

    app: QApplication
    context: AppContext
    window: MainWindow
    tray: Tray | None
    instance: SingleInstance | None


def ensure_qapp() -> QApplication:
    """The QApplication, made once, named and iconed."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        guard()  # PySide6 6.12 on Python 3.11 (excluded in pyproject; installed by hand?)
        app = QApplication(sys.argv)
    app.setApplicationName("meterbridge")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("meterbridge")
    app.setWindowIcon(app_icon())
    collect_on_gui_thread(app)  # Qt objects in cycles are freed on the GUI thread only
    return app


class Services(Protocol):
    """Background work the app hosts (see app.cli.gui.services)."""

    def start(self) -> list[str]: ...
    def wake(self) -> None: ...
    def stop(self) -> None: ...


ServicesFactory = Callable[[AppPaths], Services]


def build(
    home: str | None = None,
    *,
    single: bool = True,
    services_factory: ServicesFactory | None = None,
    files: list[str] | None = None,
) -> Running | None:
    """Make the object graph; None when another instance was asked to show itself (and `files`)."""
    paths = resolve_paths(home).ensure()
    log_file = setup_logging(paths.log_dir)
    app = ensure_qapp()
    instance = None
    if single:
        name = server_name(str(paths.config_dir))
        if ask_running_instance(name, files=files):
            log.info("meterbridge is already running; asked it to show its window")
            return None
        instance = SingleInstance(name, app)
        instance.listen()
    context = AppContext.load(paths)
    apply_theme(app, context.prefs.theme)
    follow_os(app, lambda: context.prefs.theme)
    window = MainWindow(context)
    tray = None
    if QSystemTrayIcon.isSystemTrayAvailable():
        tray = Tray(window, app_icon())
        tray.show()
        app.setQuitOnLastWindowClosed(False)
    if instance is not None:
        instance.raise_requested.connect(window.bring_to_front)
        instance.files_requested.connect(window.open_paths)
    if services_factory is not None:
        window.attach_services(services_factory(paths))
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
    # The start-up objects live as long as the app: keep them out of the garbage
    # collector's full passes (one took ~120 ms of the GUI thread; 18-41 ms after).
    gc.freeze()
    log.info("meterbridge %s started; log file %s", __version__, log_file)
    return Running(app, context, window, tray, instance)


def _warm_up() -> None:
    """Start the conversion fork server early, so the first big preview starts fast."""
    try:
        warm_up()
    except (OSError, ValueError) as exc:  # previews then convert in-process; nothing is lost
        log.warning("conversion fork server not started: %s", exc)


def run_app(
    home: str | None = None,
    *,
    minimized: bool = False,
    services_factory: ServicesFactory | None = None,
    files: list[str] | None = None,
) -> int:
    """Run the desktop app until it quits, previewing `files`; returns the exit code."""
    running = build(home, services_factory=services_factory, files=files)
    if running is None:
        return 0
    if not (minimized and running.tray is not None) or files:
        running.window.show()
    if files:
        QTimer.singleShot(0, lambda: running.window.open_paths(files))
    code = int(running.app.exec())
    if running.window.services is not None:
        running.window.services.stop()
    if running.instance is not None:
        running.instance.close()
    return code


def smoke_test_main_window(home: str) -> str:
    """Build the main window in `home`, show it, and describe it (for --self-test)."""
    running = build(home, single=False)
    assert running is not None
    running.window.show()
    running.app.processEvents()
    title = running.window.windowTitle()
    running.window.quitting = True
    running.window.close()
    return f"'{title}' shown"
