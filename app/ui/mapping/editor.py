"""The mapping editor: source id + quantity → EnergyCAP channel, as the mapping CSV."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.energycap.catalog import ChannelInfo, EcapCatalog
from app.core.mapping import (
    MAPPING_HEADER,
    REGISTER_MODES,
    MappingError,
    MappingTable,
    parse_mapping_csv,
)
from app.core.preview.columns import label_of
from app.ui.context import AppContext
from app.ui.mapping.catalog import CatalogPane
from app.ui.mapping.delegates import CodeDelegate
from app.ui.mapping.guard import EditGuard
from app.ui.mapping.row_check import mapping_error_words
from app.ui.plain_errors import DetailsLine
from app.ui.tables import name_corner_button
from app.ui.workers import Worker

log = logging.getLogger(__name__)

HEADER_LABELS = ("Source id", "Site (label)", "Quantity", "Channel import id", "Meter import id",
                 "Channel id", "Observation type", "Unit", "Multiplier", "Register")  # fmt: skip
COLUMN = {name: number for number, name in enumerate(MAPPING_HEADER)}


class MappingEditor(QDialog):
    """Edit, check, import and export the mapping; pick targets from EnergyCAP's lists."""

    saved = Signal(str)  # path
    catalog_loaded = Signal(object)  # EcapCatalog

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.path: Path | None = Path(context.settings.mapping_file) or None
        if not context.settings.mapping_file:
            self.path = None
        self.catalog = EcapCatalog()
        self.setWindowTitle("meterbridge — mapping editor")
        self.setAccessibleName("Mapping editor")
        self.resize(1100, 620)
        self._build()
        self.load_table(context.mapping_table())
        self.pane.show_cached()

    # --- layout --------------------------------------------------------------------
    def _build(self) -> None:
        self.table = QTableWidget(0, len(MAPPING_HEADER))
        self.table.setHorizontalHeaderLabels(list(HEADER_LABELS))
        self.table.setAccessibleName("Mapping rows")
        name_corner_button(self.table)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.obs_delegate = CodeDelegate(self.table)
        self.unit_delegate = CodeDelegate(self.table)
        self.table.setItemDelegateForColumn(COLUMN["observation_type"], self.obs_delegate)
        self.table.setItemDelegateForColumn(COLUMN["unit"], self.unit_delegate)
        self.register_delegate = CodeDelegate(self.table)  # difference (default) or raw
        self.register_delegate.codes = list(REGISTER_MODES)
        self.table.setItemDelegateForColumn(COLUMN["register"], self.register_delegate)
        self.pane = CatalogPane(self.context)
        self.tree, self.fetch, self.catalog_state = (
            self.pane.tree, self.pane.load_button, self.pane.state
        )  # fmt: skip
        self.pane.loaded.connect(self._on_catalog_loaded)
        self.pane.channels_loaded.connect(self._on_channels_loaded)
        self._pending: tuple[int, int] | None = None  # (row, channel id) waiting for details
        self.pane.chosen.connect(lambda _c: self._use_selected_channel())
        right = QWidget()
        box = QVBoxLayout(right)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.pane, 1)
        self.use = self._button("&Use for selected row", self._use_selected_channel)
        box.addWidget(self.use)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.status = DetailsLine("Mapping status")  # a plain sentence; detail behind Details…
        layout = QVBoxLayout(self)
        layout.addLayout(self._toolbar())
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self.guard = EditGuard(self.table, self.status)

    def _button(self, text: str, slot: Any) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text.replace("&", "").rstrip("…"))
        button.clicked.connect(lambda _c=False: slot())
        return button

    def _toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        for text, slot in (
            ("&Add row", self.add_row),
            ("&Remove row", self.remove_rows),
            ("&Import CSV…", self._on_import_clicked),
            ("&Export CSV…", self._on_export_clicked),
        ):
            row.addWidget(self._button(text, slot))
        row.addStretch(1)
        row.addWidget(self._button("&Save", self.save))
        row.addWidget(self._button("&Close", self.close))
        return row

    # --- rows ----------------------------------------------------------------------------
    def add_row(self, values: dict[str, str] | None = None) -> int:
        """Append a row (empty, or with `values` by mapping column name)."""
        row = self.table.rowCount()
        self.guard.quiet = True
        try:
            self.table.insertRow(row)
            for name, column in COLUMN.items():
                text = (values or {}).get(name, "")
                self.table.setItem(row, column, QTableWidgetItem(text))
        finally:
            self.guard.quiet = False
        self.guard.dirty = True
        self.table.setCurrentCell(row, 0)
        return row

    def add_missing(
        self, pairs: list[tuple[str, str]], labels: dict[str, str] | None = None
    ) -> int:
        """Add a row for each (source id, quantity) not in the table yet; returns how many.

        `labels` (source id -> site name as the preview shows it: the mapping's label, else
        the file's site name) fill the new rows' labels.
        """
        present = {(self._cell(r, "source_id"), self._cell(r, "quantity"))
                   for r in range(self.table.rowCount())}  # fmt: skip
        added = [p for p in dict.fromkeys(pairs) if p not in present]
        for source_id, quantity in added:
            label = label_of(labels or {}, source_id)
            self.add_row({"source_id": source_id, "label": label, "quantity": quantity})
        self.fit_columns()
        return len(added)

    def _cell(self, row: int, name: str) -> str:
        item = self.table.item(row, COLUMN[name])
        return item.text().strip() if item is not None else ""

    def remove_rows(self) -> None:
        """Remove the selected rows."""
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)

    def load_table(self, table: MappingTable) -> None:
        """Show the rows of a mapping table."""
        self.table.setRowCount(0)
        for record in csv.DictReader(io.StringIO(table.to_csv())):
            self.add_row({k: v or "" for k, v in record.items()})
        self.fit_columns()
        self.guard.dirty = False
        self.status.setText(f"{len(table.rows)} mapping row(s).")

    def fit_columns(self) -> None:
        """Columns as wide as their content (whole MPANs), the last one taking the rest."""
        self.table.resizeColumnsToContents()

    def csv_text(self) -> str:
        """The rows as mapping CSV text (not yet checked)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(MAPPING_HEADER)
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, c) for c in range(len(MAPPING_HEADER))]
            values = [(cell.text() if cell else "").strip() for cell in cells]
            if any(values):  # a row without a target (a site name only) uses the default
                writer.writerow(values)
        return out.getvalue()

    def checked_table(self) -> MappingTable | None:
        """The rows as a checked mapping table; None (and a plain message) when wrong."""
        problem = self.guard.first_problem()
        if problem is not None:
            self.status.setText(f"Not saved: {problem}")
            return None
        try:
            table = parse_mapping_csv(self.csv_text(), "mapping", self.context.default_codes())
        except MappingError as exc:
            self.status.say(f"Not valid: {mapping_error_words(str(exc))}", error=True,
                            details=str(exc))  # fmt: skip
            return None
        return table

    # --- files -------------------------------------------------------------------------
    def import_csv(self, path: Path) -> bool:
        """Load a mapping CSV file into the editor; False (with the reason shown) if bad."""
        try:
            text = path.read_text(encoding="utf-8-sig")
            table = parse_mapping_csv(text, str(path), self.context.default_codes())
        except MappingError as exc:
            self.status.say(f"Not imported: {mapping_error_words(str(exc))}", error=True,
                            details=str(exc))  # fmt: skip
            return False
        except (OSError, UnicodeDecodeError) as exc:
            self.status.error(exc, f"Not imported: {path.name} cannot be opened")
            return False
        self.load_table(table)
        self.path = path
        return True

    def export_csv(self, path: Path) -> bool:
        """Write the checked rows to `path` as mapping CSV."""
        table = self.checked_table()
        if table is None:
            return False
        try:
            path.write_text(table.to_csv(), encoding="utf-8")
        except OSError as exc:
            self.status.error(exc, f"Not written: {path.name} cannot be written")
            return False
        self.status.setText(f"Wrote {len(table.rows)} row(s) to {path}.")
        return True

    def save(self) -> bool:
        """Write the mapping into the app's home (or the file in use) and use it; no dialog."""
        if self.path is None:
            self.path = self.context.paths.config_dir / "mapping.csv"
        if not self.export_csv(self.path):
            return False
        self.context.settings.mapping_file = str(self.path)
        self.context.save()
        self.guard.dirty = False
        self.status.setText(f"Saved {self.table.rowCount()} row(s); they are used from now on.")
        self.saved.emit(str(self.path))
        return True

    def reject(self) -> None:
        """Escape / Close: unsaved edits are saved, discarded or kept, as the user says."""
        if self.guard.confirm_close(self, self.save, self._close_now):
            super().reject()

    def closeEvent(self, event: Any) -> None:
        """The window's close button: as Close."""
        if self.guard.confirm_close(self, self.save, self._close_now):
            super().closeEvent(event)
        else:
            event.ignore()

    def _close_now(self) -> None:
        self.guard.dirty = False
        super().reject()

    def _on_import_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import mapping", "", "CSV (*.csv)")
        if name:
            self.import_csv(Path(name))

    def _on_export_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export mapping", "mapping.csv", "CSV (*.csv)")
        if name:
            self.export_csv(Path(name))

    # --- EnergyCAP lists -----------------------------------------------------------------
    def fetch_catalog(self) -> Worker | None:
        """Read meters, channels, observation types and units from EnergyCAP again (a worker)."""
        return self.pane.load(refresh=True)

    def show_catalog(self, catalog: EcapCatalog) -> None:
        """Fill the channel tree and the code pickers."""
        self.pane.show_catalog(catalog)

    def _on_catalog_loaded(self, catalog: EcapCatalog) -> None:
        self.catalog = catalog
        self.obs_delegate.codes = catalog.observation_types
        self.unit_delegate.codes = catalog.units
        self.catalog_loaded.emit(catalog)

    def _use_selected_channel(self) -> None:
        channel = self.pane.current_channel()
        row = self.table.currentRow()
        if channel is None or row < 0:
            self.status.setText("Select a mapping row and an EnergyCAP channel first.")
            return
        meter_id = self.pane.meter_id_of(channel.channel_id)
        if channel.detailed or meter_id is None:
            self.assign(row, channel)
            return
        # The meter list has no import ids: read the meter's channels, then map by import id.
        self._pending = (row, channel.channel_id)
        self.status.setText(f"Reading the channels of meter {meter_id} for their import ids…")
        self.pane.load_channels(meter_id)

    def _on_channels_loaded(self, meter_id: int) -> None:
        if self._pending is None:
            return
        row, channel_id = self._pending
        found = self.pane.channel_by_id(channel_id)
        if found is not None and found.detailed and row < self.table.rowCount():
            self._pending = None
            self.assign(row, found)
            self.status.setText(f"Row {row + 1} points at channel {channel_id}.")

    def assign(self, row: int, channel: ChannelInfo) -> None:
        """Point mapping row `row` at `channel` (by import id when it has one)."""
        by_import = channel.import_id is not None
        values = {
            "channel_import_id": channel.import_id if by_import else "",
            "meter_import_id": "",
            "channel_id": "" if by_import else str(channel.channel_id),
            "observation_type": channel.observation_type or "",
            "unit": channel.unit or "",
        }
        for name, text in values.items():
            self.table.setItem(row, COLUMN[name], QTableWidgetItem(text or ""))
