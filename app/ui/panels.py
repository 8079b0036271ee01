"""The main window's views: sources dashboard, activity (receipts) and dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.snapshot import Snapshot, SourceRow, when

SOURCE_HEADERS = (
    "Source",
    "Connector",
    "State",
    "Last data",
    "Next run",
    "Pending",
    "Delivered",
    "Rejected",
    "Last error",
)
RECEIPT_HEADERS = ("Batch", "Started", "API", "Readings", "Confirmed", "Rejected", "Status")
RECEIPT_HEADERS += ("EnergyCAP task id", "Message")
DEAD_HEADERS = ("Source", "Source id", "Quantity", "Time (UTC)", "Value", "Reason", "Origin")
STATE_COLOURS = {
    "failed": QColor(220, 50, 47, 80),
    "needs attention": QColor(255, 140, 0, 80),
    "paused": QColor(128, 128, 128, 60),
}


def name_corner_button(view: QTableView) -> None:
    """Give the table's select-all corner button a name screen readers can say."""
    for button in view.findChildren(QAbstractButton):
        if button.objectName() == "qt_tableview_cornerbutton":
            button.setAccessibleName("Select all rows")


def fit_columns(table: QTableWidget) -> None:
    """Size columns to their text; the last one takes the remaining width."""
    table.resizeColumnsToContents()
    header = table.horizontalHeader()
    header.setSectionResizeMode(table.columnCount() - 1, QHeaderView.ResizeMode.Stretch)


def make_table(headers: Sequence[str], name: str) -> QTableWidget:
    """A read-only, row-selecting table with the given headers."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setAccessibleName(name)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    name_corner_button(table)
    return table


def fill_row(table: QTableWidget, row: int, values: Sequence[Any]) -> None:
    """Put `values` into `row` (numbers right-aligned)."""
    for column, value in enumerate(values):
        item = QTableWidgetItem("" if value is None else str(value))
        if isinstance(value, (int, float)):
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        table.setItem(row, column, item)


class EmptyHint(QLabel):
    """A friendly centred sentence shown when a list is empty."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.setAccessibleName(name)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("color: palette(placeholder-text); padding: 18px;")


class SourcesPanel(QWidget):
    """One line per configured source, with counts and the last error in plain words."""

    add_requested = Signal()
    open_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = make_table(SOURCE_HEADERS, "Sources")
        self.hint = EmptyHint(
            "No sources yet. Drop a meter file on this window to preview it, "
            "or add a source (EpiSensor, AcuRev, AcuLink, Verdigris, UK half-hourly, CSV).",
            "No sources hint",
        )
        add = QPushButton("&Add source…")
        add.setAccessibleName("Add source")
        add.clicked.connect(self.add_requested)
        open_button = QPushButton("&Open file…")
        open_button.setAccessibleName("Open file")
        open_button.clicked.connect(self.open_requested)
        self.notes = QLabel("")
        self.notes.setAccessibleName("Dashboard notes")
        self.notes.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.notes, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)

    def show_snapshot(self, snap: Snapshot) -> None:
        """Display the sources of `snap`."""
        rows = snap.sources
        self.hint.setVisible(not rows)
        self.table.setRowCount(len(rows))
        for number, source in enumerate(rows):
            fill_row(self.table, number, _source_values(source))
            colour = STATE_COLOURS.get(source.state)
            if colour is not None:
                for column in range(self.table.columnCount()):
                    self.table.item(number, column).setBackground(colour)
        fit_columns(self.table)
        self.notes.setText(" ".join(snap.notes))


def _source_values(s: SourceRow) -> tuple[Any, ...]:
    return (s.name, s.connector, s.state, s.last_data, s.next_run, s.pending, s.delivered,
            s.rejected, s.last_error)  # fmt: skip


class ActivityPanel(QWidget):
    """Deliveries to EnergyCAP with their receipts (batch, counts, task id)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = make_table(RECEIPT_HEADERS, "Deliveries")
        self.hint = EmptyHint("Nothing has been delivered to EnergyCAP yet.", "No deliveries hint")
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)

    def show_snapshot(self, snap: Snapshot) -> None:
        """Display the receipts of `snap`, newest first."""
        self.hint.setVisible(not snap.receipts)
        self.table.setRowCount(len(snap.receipts))
        for number, r in enumerate(snap.receipts):
            values = (r.get("id"), when(r.get("started_at")), r.get("api"), r.get("count"),
                      r.get("confirmed"), r.get("rejected"), r.get("status"),
                      r.get("task_guid") or "", r.get("message") or "")  # fmt: skip
            fill_row(self.table, number, values)
        fit_columns(self.table)


class DeadLettersPanel(QWidget):
    """Readings EnergyCAP refused, why, and a way to fix the mapping and replay them."""

    replay_requested = Signal(object)  # source name, or None for all
    fix_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = make_table(DEAD_HEADERS, "Dead letters")
        self.hint = EmptyHint("No refused readings.", "No dead letters hint")
        self.fix_button = QPushButton("&Fix mapping…")
        self.fix_button.setAccessibleName("Fix mapping")
        self.replay_button = QPushButton("&Replay")
        self.replay_button.setAccessibleName("Replay refused readings")
        self.replay_button.setToolTip("Queue the refused readings of the selected source again")
        self.fix_button.clicked.connect(self.fix_requested)
        self.replay_button.clicked.connect(self._on_replay_clicked)
        explain = QLabel(
            "Refused readings usually point at a missing or wrong mapping: fix it, then replay."
        )
        explain.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(explain, 1)
        buttons.addWidget(self.fix_button)
        buttons.addWidget(self.replay_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)

    def show_snapshot(self, snap: Snapshot) -> None:
        """Display the dead letters of `snap`."""
        rows = snap.dead_letters
        self.hint.setVisible(not rows)
        self.replay_button.setEnabled(bool(rows))
        self.table.setRowCount(len(rows))
        for number, r in enumerate(rows):
            time = r.get("time")
            stamp = time.strftime("%Y-%m-%d %H:%M") if hasattr(time, "strftime") else time
            values = (r.get("source"), r.get("source_id"), r.get("quantity"), stamp,
                      r.get("value"), r.get("reason"), r.get("origin"))  # fmt: skip
            fill_row(self.table, number, values)
        fit_columns(self.table)

    def _on_replay_clicked(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        sources = {self.table.item(r, 0).text() for r in rows}
        self.replay_requested.emit(sources.pop() if len(sources) == 1 else None)
