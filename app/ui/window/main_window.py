"""The main window: dashboard, activity, dead letters, log; open and drop files."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.ui.context import AppContext
from app.ui.elided_label import ElidedLabel
from app.ui.preview.window import PreviewWindow
from app.ui.snapshot import Snapshot, take_snapshot
from app.ui.window.held_panel import HeldPanel, held_tab_title
from app.ui.window.log_viewer import LOG_NAME, LogViewer
from app.ui.window.main_actions import MainActions
from app.ui.window.panels import ActivityPanel, DeadLettersPanel, SourcesPanel
from app.ui.workers import Worker, start
from connectors.base import Source
from connectors.registry import Candidate

log = logging.getLogger(__name__)

CLOSE_CANDIDATE_GAP = 0.3  # candidates this close to the best are offered too


class Banner(QWidget):
    """A dismissable one-line message above the tabs (never a blocking dialog)."""

    def __init__(self) -> None:
        super().__init__()
        self.label = QLabel()
        self.label.setAccessibleName("Message")
        self.label.setWordWrap(True)
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Dismiss message")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self.label, 1)
        row.addWidget(close)
        self.setAutoFillBackground(True)
        self.hide()

    def say(self, text: str, *, error: bool = False) -> None:
        """Show `text` (an error in a warm colour)."""
        colour = "rgba(220,50,47,0.18)" if error else "rgba(38,139,210,0.16)"
        self.setStyleSheet(f"Banner {{ background: {colour}; border-radius: 4px; }}")
        self.label.setText(text)
        self.show()


class MainWindow(QMainWindow):
    """meterbridge's main window."""

    preview_opened = Signal(object)  # PreviewWindow
    snapshot_shown = Signal(object)  # Snapshot
    hidden_to_tray = Signal()
    services_noted = Signal(list)  # plain notes on what runs in the background

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.keep_in_tray = False  # set by the tray when it is there
        self.quitting = False
        self.previews: list[PreviewWindow] = []
        self.services: Any = None
        self._snapshot_worker: Worker | None = None
        self.setWindowTitle(f"meterbridge {__version__} — meter data into EnergyCAP")
        self.setAccessibleName("meterbridge main window")
        self.setAcceptDrops(True)
        self.resize(1100, 700)
        self._build()
        self.actions_ = MainActions(self)
        self._build_menus()
        self.refresh_timer = QTimer(self)
        self.refresh_timer.setInterval(5000)
        self.refresh_timer.timeout.connect(self.refresh)
        self.refresh_timer.start()
        QTimer.singleShot(0, self.refresh)

    # --- building --------------------------------------------------------------
    def _build(self) -> None:
        from PySide6.QtWidgets import QTabWidget

        self.banner = Banner()
        self.sources = SourcesPanel()
        self.activity = ActivityPanel()
        self.dead = DeadLettersPanel()
        self.log_viewer = LogViewer(self.context.paths.log_dir / LOG_NAME)
        self.held = HeldPanel(self.context.paths.journal_file)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Views")
        self.tabs.setDocumentMode(True)
        for widget, title in (
            (self.sources, "&Dashboard"),
            (self.activity, "A&ctivity"),
            (self.dead, "Dead &letters"),
            (self.log_viewer, "Lo&g"),
            (self.held, held_tab_title(0)),
        ):
            self.tabs.addTab(widget, title)
        self.tabs.currentChanged.connect(self._on_tabs_changed)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.connection_label = QLabel()
        self.connection_label.setAccessibleName("Connection state")
        self.services_label = ElidedLabel("")
        self.services_label.setAccessibleName("Background services")
        # Long notes end in "…" (full text in the tooltip) instead of running under the
        # connection label on the right.
        self.services_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.statusBar().addWidget(self.services_label, 1)
        self.statusBar().addPermanentWidget(self.connection_label)
        self.update_connection_label()

    def _build_menus(self) -> None:
        acts = self.actions_
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self._action("&Open…", acts.open_dialog, QKeySequence.StandardKey.Open))
        add_menu = file_menu.addMenu("&Add source")
        for kind, title in acts.wizard_kinds():
            add_menu.addAction(self._action(title, lambda k=kind: acts.open_wizard(k)))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Settings…", acts.open_settings, "Ctrl+,"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.quit_app, QKeySequence.StandardKey.Quit))
        tools = self.menuBar().addMenu("&Tools")
        tools.addAction(self._action("&Mapping editor…", acts.open_mapping_editor, "Ctrl+M"))
        tools.addAction(self._action("&Refresh", self.refresh, QKeySequence.StandardKey.Refresh))
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(self._action("&Log", lambda: self.tabs.setCurrentIndex(3)))
        help_menu.addAction(self._action("&About meterbridge", acts.about))
        self.sources.add_requested.connect(lambda: acts.open_wizard(None))
        self.sources.open_requested.connect(acts.open_dialog)
        self.dead.replay_requested.connect(acts.replay)
        self.sources.table.cellDoubleClicked.connect(self._on_sources_double_clicked)
        self.dead.fix_requested.connect(acts.open_mapping_editor)
        self.held.counted.connect(
            lambda n: self.tabs.setTabText(self.tabs.indexOf(self.held), held_tab_title(n))
        )
        self.held.decided.connect(lambda *_: self.services is not None and self.services.wake())

    def _action(self, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    # --- state -------------------------------------------------------------------
    def attach_services(self, services: Any) -> None:
        """Start the background services (listener, delivery, schedule) and show their state."""
        self.services = services
        try:
            notes = services.start()
        except Exception as exc:  # the window stays useful for previews and settings
            log.exception("background services failed to start")
            notes = [f"Background services not running: {exc}"]
        self._show_service_notes(notes)

    def _show_service_notes(self, notes: list[str]) -> None:
        for note in notes:
            log.info("%s", note)
        self.services_label.setText(" · ".join(notes))
        self.services_label.setToolTip("\n".join(notes))
        self.services_noted.emit(list(notes))

    def restart_services(self) -> Worker | None:
        """Apply changed settings to the background services (on a worker: stopping waits)."""
        if self.services is None or not hasattr(self.services, "restart"):
            return None
        self.services_label.setText("Applying the new settings…")
        worker = Worker(lambda _p, _c: self.services.restart())
        worker.signals.succeeded.connect(self._show_service_notes)
        worker.signals.failed.connect(lambda m: self._show_service_notes([f"Not running: {m}"]))
        self._restart_worker = start(worker)
        return worker

    def update_connection_label(self) -> None:
        """Say in the status bar where readings go."""
        url = self.context.settings.energycap.url
        target = f"EnergyCAP: {url}" if url else "No EnergyCAP connection: files go to the outbox"
        self.connection_label.setText(target)

    def refresh(self) -> None:
        """Re-read sources, receipts and dead letters on a worker."""
        if self._snapshot_worker is not None:
            return
        journal, jobs = self.context.paths.journal_file, self.context.jobs_file
        devices = self.context.paths.config_dir / "devices.json"
        worker = Worker(lambda _p, _c: take_snapshot(journal, jobs, devices))
        worker.signals.succeeded.connect(self.show_snapshot)
        worker.signals.finished.connect(self._on_snapshot_finished)
        self._snapshot_worker = start(worker)

    def _on_snapshot_finished(self) -> None:
        self._snapshot_worker = None

    def show_snapshot(self, snap: Snapshot) -> None:
        """Display a snapshot in every panel."""
        for panel in (self.sources, self.activity, self.dead):
            panel.show_snapshot(snap)
        self.tabs.setTabText(2, f"Dead &letters ({len(snap.dead_letters)})")
        self.held.refresh()
        self.snapshot_shown.emit(snap)

    def _on_sources_double_clicked(self, row: int, _column: int) -> None:
        """A source with refused readings opens the dead letters; others the log."""
        rejected = self.sources.table.item(row, 7)
        self.tabs.setCurrentIndex(2 if rejected and rejected.text() not in ("", "0") else 3)

    def _on_tabs_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.log_viewer:
            self.log_viewer.refresh()

    # --- files -----------------------------------------------------------------------
    def open_path(self, path: Path) -> PreviewWindow | None:
        """Sniff `path`, choose the best connector and open the preview."""
        candidates = self._candidates(path)
        if not candidates:
            return None
        table = self.context.mapping_table()
        preview = PreviewWindow(path, candidates, table)
        preview.send_requested.connect(self.actions_.send)
        preview.map_requested.connect(lambda pairs: self.actions_.map_sources(preview, pairs))
        preview.destroyed.connect(lambda *_: None)
        self.previews.append(preview)
        preview.show()
        preview.start()
        self.statusBar().showMessage(
            f"{path.name}: read as {candidates[0].connector.info.name}", 8000
        )
        self.preview_opened.emit(preview)
        return preview

    def _candidates(self, path: Path) -> list[Candidate]:
        if not path.is_file():
            self.banner.say(f"{path} is not a file.", error=True)
            return []
        try:
            ranked = self.context.registry.rank(Source.from_path(path))
        except OSError as exc:
            self.banner.say(f"{path.name} cannot be read: {exc.strerror or exc}", error=True)
            return []
        if not ranked:
            known = ", ".join(c.info.name for c in self.context.registry.all()) or "none yet"
            self.banner.say(
                f"{path.name} is not a format meterbridge recognises. Known formats: {known}. "
                "For other CSV files, add a generic CSV source.",
                error=True,
            )
            return []
        best = ranked[0].score
        return [c for c in ranked if c.score >= best - CLOSE_CANDIDATE_GAP]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept drags that carry local files."""
        urls = event.mimeData().urls()
        if urls and all(u.isLocalFile() for u in urls):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open each dropped file in a preview."""
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        event.acceptProposedAction()
        for path in paths:
            self.open_path(path)

    # --- closing -------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Hide to the tray (work goes on) unless quitting or there is no tray."""
        if self.keep_in_tray and not self.quitting and self.context.prefs.close_to_tray:
            event.ignore()
            self.hide()
            self.hidden_to_tray.emit()
            return
        for preview in self.previews:
            preview.close()
        event.accept()

    def quit_app(self) -> None:
        """Leave for good (the tray menu's Quit too)."""
        from PySide6.QtWidgets import QApplication

        self.quitting = True
        self.close()
        QApplication.quit()

    def bring_to_front(self) -> None:
        """Show, un-minimise and raise the window (second launch, tray click)."""
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()
