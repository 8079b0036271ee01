"""The main window: dashboard, activity, dead letters, log; open and drop files."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox, QSizePolicy, QVBoxLayout, QWidget

from app import __version__
from app.ui.captures.row import HeldPushesRow
from app.ui.context import AppContext
from app.ui.elided_label import ElidedLabel
from app.ui.preview.parts import fitted
from app.ui.preview.window import PreviewWindow
from app.ui.snapshot import Snapshot, take_snapshot, with_delivery, with_device_stats
from app.ui.window.banner import Banner, show_device_problems
from app.ui.window.dead_letters import DeadLettersPanel
from app.ui.window.held_panel import HeldPanel, held_tab_title
from app.ui.window.log_viewer import LOG_NAME, LogViewer
from app.ui.window.main_actions import MainActions
from app.ui.window.menus import build_menus
from app.ui.window.panels import ActivityPanel, SourcesPanel
from app.ui.workers import Worker, start
from connectors.base import Source
from connectors.registry import Candidate

log = logging.getLogger(__name__)

CLOSE_CANDIDATE_GAP = 0.3  # candidates this close to the best are offered too
CONNECTION_SHARE = 0.45  # of the window's width, at most, for the connection state
STATUS_MARGIN = 24  # px between a passing message and the connection state


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
        self._placed = False
        self._pause_shown = ""  # the delivery pause the banner told of (once per pause)
        self._devices_shown = ""  # the devices.json problems the banner told of
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
        # "12 pushes held: map them" + "Map held pushes…" (hidden while nothing is held)
        self.held_pushes = HeldPushesRow(self.context.paths, self.context.settings)
        self.sources = SourcesPanel()
        self.sources.connector_names = {c.info.id: c.info.name for c in self.context.registry.all()}
        self.activity = ActivityPanel()
        self.dead = DeadLettersPanel()
        self.dead.connector_names = self.sources.connector_names
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
        layout.addWidget(self.held_pushes)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        # Elided, and never wider than CONNECTION_SHARE of the window: a temporary message
        # ("… read as …") keeps the rest of the status bar.
        self.connection_label = ElidedLabel()
        self.connection_label.setAccessibleName("Connection state")
        self.service_notes: list[str] = []
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
        self.toolbar_actions = build_menus(self)
        self.sources.add_requested.connect(lambda: acts.open_wizard(None))
        self.sources.open_requested.connect(acts.open_dialog)
        self.sources.checklist.setup_requested.connect(acts.open_settings)
        self.dead.replay_requested.connect(acts.replay)
        self.sources.table.cellDoubleClicked.connect(self._on_sources_double_clicked)
        self.dead.fix_requested.connect(acts.fix_mapping)
        self.held.counted.connect(
            lambda n: self.tabs.setTabText(self.tabs.indexOf(self.held), held_tab_title(n))
        )
        self.held.decided.connect(lambda *_: self.services is not None and self.services.wake())

    # --- state -------------------------------------------------------------------
    def attach_services(self, services: Any) -> None:
        """Start the background services (listener, delivery, schedule) and show their state."""
        self.services = services
        self.context.services = services
        try:
            notes = services.start()
        except Exception as exc:  # the window stays useful for previews and settings
            log.exception("background services failed to start")
            notes = [f"Background services not running: {exc}"]
        self._show_service_notes(notes)

    def _show_service_notes(self, notes: list[str]) -> None:
        for note in notes:
            log.info("%s", note)
        self.service_notes = list(notes)
        self._show_notes_now()
        self.services_noted.emit(list(notes))

    def _show_notes_now(self, paused: bool = False) -> None:
        """The services' notes; while delivery is paused, none that says it is delivering."""
        notes = [n for n in self.service_notes if not (paused and n.startswith("Delivering"))]
        self.services_label.setText(" · ".join(notes))
        self.services_label.setToolTip("\n".join(notes))

    def show_status(self, text: str, timeout_ms: int, tail: str = "") -> str:
        """A passing message in the status bar: `text` shortened in its middle so that it and
        `tail` (kept whole) fit beside the connection state."""
        label = self.connection_label  # its left edge, the size grip and spacing included
        room = (label.x() if label.isVisible() else self.statusBar().width()) - STATUS_MARGIN
        metrics = self.fontMetrics()
        room = max(room - metrics.horizontalAdvance(tail), 80)
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, room) + tail
        self.statusBar().showMessage(shown, timeout_ms)
        return shown

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the connection label to its share of the status bar."""
        self.connection_label.setMaximumWidth(int(event.size().width() * CONNECTION_SHARE))
        super().resizeEvent(event)

    def _on_restart_failed(self, error: BaseException) -> None:
        self._show_service_notes(["Background services not running"])
        self.banner.error(error, "The background services could not start")

    def restart_services(self) -> Worker | None:
        """Apply changed settings to the background services (on a worker: stopping waits)."""
        if self.services is None or not hasattr(self.services, "restart"):
            return None
        self.services_label.setText("Applying the new settings…")
        worker = Worker(lambda _p, _c: self.services.restart())
        worker.signals.succeeded.connect(self._show_service_notes)
        worker.signals.failed.connect(self._on_restart_failed)
        self._restart_worker = start(worker)
        return worker

    def update_connection_label(self, paused: str = "", detail: str = "") -> None:
        """Say in the status bar where readings go, or why delivery is paused (in red)."""
        url = self.context.settings.energycap.url
        self._show_notes_now(paused=bool(paused))
        if paused:  # its first sentence: the banner and the rows say what to do
            self.connection_label.setText(f"⚠ {paused.split('. ')[0].rstrip('.')}.")
            self.connection_label.setStyleSheet("color: #d03a2f; font-weight: bold;")
            self.connection_label.setToolTip(f"{paused}\n\n{detail}" if detail else paused)
            return
        target = (
            f"EnergyCAP: {url}" if url else "Not connected to EnergyCAP: readings wait on this PC"
        )
        self.connection_label.setText(target)
        self.connection_label.setStyleSheet("")
        self.connection_label.setToolTip("")

    def connected(self) -> bool:
        """Whether an EnergyCAP host and API key are saved."""
        from app.ui.context import API_KEY_SECRET

        return bool(
            self.context.settings.energycap.url and self.context.secrets.get(API_KEY_SECRET)
        )

    def deliver_now(self) -> None:
        """Send what waits now, not at the next period."""
        if self.services is not None:
            self.services.wake()
        self.show_status("Delivering now…", 5000)

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
        """Display a snapshot in every panel (with what the background services know now)."""
        snap = self._with_services(snap)
        self._devices_shown = show_device_problems(self.banner, snap, self._devices_shown)
        for panel in (self.sources, self.activity, self.dead):
            panel.show_snapshot(snap)
        self.sources.checklist.show_progress(self.connected(), bool(snap.sources))
        self.tabs.setTabText(2, f"Dead &letters ({len(snap.dead_letters)})")
        self.held.refresh()
        self.snapshot_shown.emit(snap)

    def _with_services(self, snap: Snapshot) -> Snapshot:
        services = self.services
        if services is None or not hasattr(services, "delivery"):
            return snap
        state = services.delivery
        with_device_stats(snap, services.device_stats())
        with_delivery(snap, state.problem, paused=bool(state.paused), detail=state.detail)
        self.update_connection_label(state.paused, state.detail)
        if state.paused and state.paused != self._pause_shown:
            self.banner.say(state.paused, error=True, details=state.detail)
        elif not state.paused and self._pause_shown and self.banner.text() == self._pause_shown:
            self.banner.hide()  # delivery goes on again: the pause is no longer true
        self._pause_shown = state.paused
        return snap

    def _on_sources_double_clicked(self, row: int, _column: int) -> None:
        """A source with refused readings opens the dead letters; others the log."""
        rejected = self.sources.table.item(row, 7)
        self.tabs.setCurrentIndex(2 if rejected and rejected.text() not in ("", "0") else 3)

    def showEvent(self, event: QShowEvent) -> None:
        """The first time: within the screen's free area (a 1366×768 laptop too)."""
        if not self._placed:
            self._placed = True
            screen = self.screen()
            if screen is not None:
                self.setGeometry(fitted(screen.availableGeometry(), (1100, 700)))
        super().showEvent(event)

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
        preview.send_requested.connect(lambda data: self.actions_.send(data, preview))
        preview.map_requested.connect(lambda pairs: self.actions_.map_sources(preview, pairs))
        preview.destroyed.connect(lambda *_: None)
        self.previews.append(preview)
        preview.show()
        preview.start()
        self.show_status(path.name, 8000, tail=f": read as {candidates[0].connector.info.name}")
        self.preview_opened.emit(preview)
        return preview

    def open_paths(self, paths: list[str]) -> list[PreviewWindow]:
        """Preview each file (`meterbridge gui FILE…`, Open with, a second launch)."""
        self.bring_to_front()
        opened = [self.open_path(Path(p)) for p in paths]
        return [p for p in opened if p is not None]

    def _candidates(self, path: Path) -> list[Candidate]:
        if not path.is_file():
            self.banner.say(f"{path} is not a file.", error=True)
            return []
        try:
            ranked = self.context.registry.rank(Source.from_path(path))
        except OSError as exc:
            self.banner.error(exc, f"{path.name} cannot be read")
            return []
        if not ranked:
            formats = ", ".join(c.info.name for c in self.context.registry.all()) or "none yet"
            self.banner.say(
                f"{path.name} is not a format meterbridge recognises. Known formats: {formats}. "
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
        """Hide to the tray (work goes on); with no tray, ask first when work would stop."""
        if self.keep_in_tray and not self.quitting and self.context.prefs.close_to_tray:
            event.ignore()
            self.hide()
            self.hidden_to_tray.emit()
            return
        if not self.quitting and not self._may_stop_work():  # no tray to keep it running
            event.ignore()
            return
        for preview in self.previews:
            preview.close()
        event.accept()

    def work_that_stops(self) -> list[str]:
        """What closing would stop: readings still to send, a listener devices push to."""
        services, found = self.services, []
        if services is None:
            return found
        pending = services.pending_readings() if hasattr(services, "pending_readings") else 0
        if pending:
            found.append(f"{pending:,} reading(s) are not delivered to EnergyCAP yet")
        if getattr(services, "listening", lambda: False)():
            found.append("devices can no longer push readings to this PC")
        return found

    def _may_stop_work(self) -> bool:
        """True when nothing would stop; else ask (not blocking) and close again on Quit."""
        work = self.work_that_stops()
        if not work:
            return True
        box = QMessageBox(QMessageBox.Icon.Question, "Quit meterbridge?",
                          "Quit meterbridge? There is no tray to keep it running, so:",
                          parent=self)  # fmt: skip
        box.setInformativeText("".join(f"• {line}.<br>" for line in work)
                               + "What waits is kept and sent at the next start.")  # fmt: skip
        quit_button = box.addButton("&Quit", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("&Keep running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.finished.connect(lambda _r: box.clickedButton() is quit_button and self.quit_app())
        self.close_question = box
        box.open()
        return False

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
