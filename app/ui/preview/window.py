"""The preview of a file's readings, as EnergyCAP will get them, before anything is sent."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.error_kinds import kind_of
from app.core.mapping import MappingTable
from app.core.preview.data import (
    PreviewCancelled,
    PreviewData,
    PreviewRequest,
    load_preview,
    save_import_files,
)
from app.core.preview.process import load_preview_in_process, use_process
from app.ui.elided_label import ElidedLabel
from app.ui.plain_errors import plain_and_details
from app.ui.preview.delegate import ReadingsDelegate, size_columns
from app.ui.preview.model import COLUMN, ReadingsModel
from app.ui.preview.parts import (
    PREFERRED_SIZE,
    build_header,
    build_status_bar,
    fitted,
    read_with_text,
)
from app.ui.tables import name_corner_button
from app.ui.workers import Worker, start
from connectors.base import Source
from connectors.registry import Candidate

log = logging.getLogger(__name__)

MAX_WARNINGS_SHOWN = 500
STEP_GAP_MS = 25


class PreviewWindow(QWidget):
    """Converts one file on a worker, then shows table, chart and warnings."""

    loaded = Signal(object)  # PreviewData
    load_failed = Signal(str)
    send_requested = Signal(object)  # PreviewData
    saved = Signal(list)
    settled = Signal()  # table sized and chart drawn after a load
    map_requested = Signal(list)  # [(source_id, quantity)] without a mapping row

    def __init__(
        self,
        path: Path,
        candidates: Sequence[Candidate],
        table: MappingTable,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.path, self.candidates, self.table = path, list(candidates), table
        self.data: PreviewData | None = None
        self.model: ReadingsModel | None = None
        self.worker: Worker | None = None
        self.setWindowTitle(f"meterbridge — preview of {path.name}")
        self.setAccessibleName("Preview window")
        self.resize(*PREFERRED_SIZE)
        self._build()
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        self._placed = False

    # --- layout ------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addLayout(build_header(self))
        layout.addLayout(self._progress_row())
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Preview views")
        self.tabs.addTab(self._table_tab(), "&Readings")
        from app.ui.preview.chart import ChannelChart  # pyqtgraph loads with the first preview

        self.chart = ChannelChart()
        self.tabs.addTab(self.chart, "C&hart")
        self.warnings = QListWidget()
        self.warnings.setAccessibleName("Warnings")
        self.warnings.setWordWrap(True)
        self.warnings.itemActivated.connect(self._on_warning_activated)
        self.warnings.itemClicked.connect(self._on_warning_activated)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tabs)
        split.addWidget(self._titled("Warnings", self.warnings))
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        layout.addWidget(self._buttons())
        layout.addWidget(build_status_bar(self))

    def _progress_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Conversion progress")
        self.progress.setRange(0, 0)
        self.progress_label = ElidedLabel("")  # holds the file name: must not widen the window
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress_label.setAccessibleName("Conversion status")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel conversion")
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.progress, 1)
        row.addWidget(self.progress_label, 2)
        row.addWidget(self.cancel_button)
        self._progress_widgets = (self.progress, self.progress_label, self.cancel_button)
        # Shown from the start (a preview converts as soon as it opens): starting then
        # changes only texts, not the layout of the whole window.
        self.progress_label.setText(f"Reading {self.path.name}…")
        return row

    def _table_tab(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 6, 0, 0)
        self.only_flagged = QCheckBox("Show only rows with &warnings")
        self.only_flagged.setAccessibleName("Show only rows with warnings")
        self.only_flagged.toggled.connect(self._on_only_flagged_toggled)
        self.view = QTableView()
        self.view.setAccessibleName("Readings table")
        name_corner_button(self.view)
        self.view.setAlternatingRowColors(True)
        self.view.setItemDelegate(ReadingsDelegate(self.view))
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.horizontalHeader().setStretchLastSection(True)
        # Size columns from the first rows only: measuring a million is not a preview.
        self.view.horizontalHeader().setResizeContentsPrecision(30)
        box.addWidget(self.only_flagged)
        box.addWidget(self.view, 1)
        return page

    def _titled(self, title: str, widget: QWidget) -> QWidget:
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(QLabel(f"<b>{title}</b>"))
        box.addWidget(widget)
        return holder

    def _buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox()
        self.send_button = buttons.addButton(
            "&Send to EnergyCAP", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.send_button.setAccessibleName("Send to EnergyCAP")
        self.save_button = buttons.addButton(
            "Sa&ve EnergyCAP CSV + profile…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.save_button.setAccessibleName("Save EnergyCAP CSV and profile")
        self.map_button = buttons.addButton(
            "&Map unmapped sources…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.map_button.setAccessibleName("Map unmapped sources")
        self.map_button.setToolTip("Open the mapping editor with a row for each unmapped source")
        self.map_button.clicked.connect(self._on_map_clicked)
        self.map_button.setVisible(False)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName("Close preview")
        self.send_button.clicked.connect(self._on_send_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        close.clicked.connect(self.close)
        self._set_ready(False)
        return buttons

    # --- work ----------------------------------------------------------------
    def start(self) -> None:
        """Convert the file with the chosen connector on a worker thread."""
        self.cancel()
        self.data = None
        self._set_ready(False)
        candidate = self.candidates[max(0, self.connector_box.currentIndex())]
        connector = candidate.connector
        request = PreviewRequest(connector, Source.from_path(self.path), self.options(), self.table)
        load = load_preview_in_process if use_process(self.path) else load_preview

        def job(progress: Any, cancelled: Any) -> PreviewData:
            return load(request, progress=progress, cancelled=cancelled)

        worker = Worker(job, cancel_types=(PreviewCancelled,))
        worker.signals.progressed.connect(self._on_worker_progressed)
        worker.signals.succeeded.connect(self._on_worker_succeeded)
        worker.signals.failed.connect(self._on_worker_failed)
        worker.signals.cancelled.connect(self._on_worker_cancelled)
        self._show_progress(True, f"Reading {self.path.name} as {connector.info.name}…")
        self.worker = start(worker)

    def options(self) -> dict[str, Any]:
        """Connector options chosen in the header (the zone of naive times)."""
        zone = self.zone_box.currentData()
        return {"tz": zone} if zone else {}

    def cancel(self) -> None:
        """Stop a running conversion."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker = None

    def _show_progress(self, visible: bool, text: str = "") -> None:
        for widget in self._progress_widgets:
            widget.setVisible(visible)
        self.progress.setRange(0, 0)  # busy: the number of readings is not known ahead
        self.progress_label.setText(text)

    def _current(self) -> bool:
        """Whether a worker signal comes from the conversion still wanted."""
        return self.worker is not None and self.sender() is self.worker.signals

    def _set_ready(self, ready: bool) -> None:
        self.send_button.setEnabled(ready)
        self.save_button.setEnabled(ready)

    def _on_worker_progressed(self, count: int, message: str) -> None:
        self.progress_label.setText(message)

    def _on_worker_succeeded(self, data: PreviewData) -> None:
        if not self._current():
            return  # a result from a conversion that was replaced
        self.worker = None
        self._show_progress(False)
        self.show_data(data)
        self.loaded.emit(data)

    def _on_worker_failed(self, error: BaseException) -> None:
        if not self._current():
            return
        self.worker = None
        self._show_progress(True, "")
        self.progress.setRange(0, 1)
        self.cancel_button.setVisible(False)
        message = str(error) or type(error).__name__
        named = message.replace(str(self.path), self.path.name)
        plain, details = plain_and_details(named, "Cannot read this file", kind=kind_of(error))
        self.progress_label.setText(plain)
        self.say(plain, error=True, details=details or message)
        self.load_failed.emit(message)

    def _on_worker_cancelled(self) -> None:
        if self.worker is not None:
            return  # a newer conversion is running
        self._show_progress(False)
        self.summary.setText("Conversion cancelled.")

    def show_data(self, data: PreviewData) -> None:
        """Fill the table, chart and warnings from converted data."""
        self.data = data
        assert data.report is not None and data.columns is not None
        self.model = ReadingsModel(data.columns)
        self.view.setModel(self.model)
        self.view.setColumnHidden(COLUMN["label"], not self.model.has_labels)
        size_columns(self.view, self.model)
        self._fill_warnings(data)
        channels = len(data.slices)
        self.summary.setText(
            f"{len(data.mapped):,} readings · {channels} channel(s) · "
            f"{len(data.report.warnings)} warning(s)"
        )
        self.read_with.setText(read_with_text(data.info))
        self._set_ready(len(data.mapped) > 0)
        self.map_button.setVisible(bool(self.unmapped()))
        # The rest waits for later turns of the event loop (each step well under 100 ms),
        # so the GUI thread never holds on for long, even with a million rows.
        self.chart.set_data(data.mapped, data.report.flags, data.slices)
        self._later([])

    def _later(self, steps: list[Any]) -> None:
        """Run `steps` one per timer tick (a paint or input event can come between)."""
        if not steps:
            self.settled.emit()
            return
        QTimer.singleShot(STEP_GAP_MS, lambda: (steps[0](), self._later(steps[1:])))

    def _fill_warnings(self, data: PreviewData) -> None:
        self.warnings.clear()
        assert data.report is not None
        shown = data.report.warnings[:MAX_WARNINGS_SHOWN]
        for warning in shown:
            item = QListWidgetItem(f"{warning.title}: {warning.message}")
            item.setData(Qt.ItemDataRole.UserRole, warning.first_row)
            self.warnings.addItem(item)
        hidden = len(data.report.warnings) - len(shown)
        if hidden > 0:
            self.warnings.addItem(f"… and {hidden:,} more (see the log for all).")
        if not data.report.warnings:
            self.warnings.addItem("No warnings: the readings look complete and plausible.")

    def _on_warning_activated(self, item: QListWidgetItem) -> None:
        row = item.data(Qt.ItemDataRole.UserRole)
        if row is None or self.model is None:
            return
        shown = self.model.view_row(int(row))
        if shown is None and self.only_flagged.isChecked():  # filtered out: show every row
            self.only_flagged.setChecked(False)
            shown = self.model.view_row(int(row))
        if shown is not None:
            self.view.selectRow(shown)
            self.view.scrollTo(self.model.index(shown, 0))
        self.chart.show_row(int(row))

    def _on_only_flagged_toggled(self, only: bool) -> None:
        if self.model is not None:
            self.model.set_only_flagged(only)

    def unmapped(self) -> list[tuple[str, str]]:
        """(source id, quantity) pairs the mapping does not cover yet."""
        return list(self.data.unmapped) if self.data is not None else []

    def remap(self, table: MappingTable) -> None:
        """Convert again with a changed mapping (after the mapping editor saved)."""
        self.table = table
        self.start()

    def _on_map_clicked(self) -> None:
        self.map_requested.emit(self.unmapped())

    def _on_send_clicked(self) -> None:
        if self.data is not None:
            self.send_requested.emit(self.data)

    def _on_save_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save EnergyCAP files into")
        if folder:
            self.save_to(Path(folder))

    def save_to(self, folder: Path) -> list[Path]:
        """Write the EnergyCAP Import CSV files and profiles into `folder`."""
        if self.data is None:
            return []
        try:
            written = save_import_files(self.data.mapped, folder, stem=self.path.stem[:40])
        except (OSError, ValueError) as exc:
            self.say("The files could not be saved.", error=True, details=str(exc))
            return []
        self.say(f"Saved {len(written) // 2} file(s) with profiles in {folder}")
        self.saved.emit(written)
        return written

    def say(self, text: str, *, error: bool = False, details: str = "") -> None:
        """Show a message in the status bar (an error in red; `details` behind Details…)."""
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setStyleSheet("color: #d03a2f;" if error else "")
        self.details = details
        self.details_button.setVisible(bool(details))

    def say_error(self, error: BaseException, what: str) -> None:
        """Show an error in plain words (what failed first), its own words behind Details…"""
        plain, details = plain_and_details(error, what)
        self.say(plain, error=True, details=details)

    def showEvent(self, event: QShowEvent) -> None:
        """Open within the screen's free area (a 1366×768 laptop with a taskbar too)."""
        if not self._placed:
            self._placed = True
            screen = self.screen()
            if screen is not None:
                self.setGeometry(fitted(screen.availableGeometry()))
        super().showEvent(event)

    def keyPressEvent(self, event: Any) -> None:
        """Escape closes the preview (also when the shortcut's window is not the active one)."""
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: Any) -> None:
        """Stop the conversion when the window closes."""
        self.cancel()
        super().closeEvent(event)
