"""A virtual table model over the mapped readings DataFrame.

Nothing is built per row up front: the model keeps the frame's columns as
arrays and formats a cell only when the view asks for it, so `data()` is
O(1) and a million rows scroll as smoothly as ten.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.core.preview.checks import Flag, describe_flags
from app.core.preview.columns import TableColumns

Index = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[tuple[str, str], ...] = (
    ("source_id", "Source"),
    ("label", "Site"),  # the mapping's label, else the file's site name (hidden when none)
    ("quantity", "Quantity"),
    ("target", "EnergyCAP target"),
    ("observation_type", "Observation type"),
    ("unit_code", "Unit"),
    ("time", "Time (UTC, interval end)"),
    ("interval_s", "Interval"),
    ("value", "Value"),
    ("estimated", "Estimated"),
    ("note", "Note"),
    ("origin", "Origin"),
    ("flags", "Warnings"),
)
COLUMN = {name: number for number, (name, _title) in enumerate(COLUMNS)}

TIME_CACHE_SIZE = 100_000
HANDLED_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ToolTipRole,
    }
)

# Translucent so the highlight reads in light and dark themes alike. Unmapped rows are
# not tinted: a whole file is often unmapped at first; the warning list says so once.
FLAG_COLOURS: tuple[tuple[Flag, QColor], ...] = (
    (Flag.DUPLICATE, QColor(220, 50, 47, 90)),
    (Flag.NEGATIVE, QColor(220, 50, 47, 70)),
    (Flag.SPIKE, QColor(255, 140, 0, 90)),
    (Flag.GAP, QColor(181, 137, 0, 80)),
    (Flag.ESTIMATED, QColor(38, 139, 210, 55)),
)


class ReadingsModel(QAbstractTableModel):
    """Rows of mapped readings; optionally only the flagged ones."""

    def __init__(self, columns: TableColumns) -> None:
        super().__init__()
        c = columns
        self._flags, self._cols, self._origin, self._ids = c.flags, c.text, c.origin, c.ids
        self._time_ns, self._interval, self._value = c.time_ns, c.interval, c.value
        self._estimated = c.estimated
        self.has_labels = any(c.text["label"][1])
        self._label_notes = c.label_notes  # the file's own site name, where a label overrides it
        self._rows: np.ndarray[Any, Any] | None = None  # None: all rows
        self._times: dict[int, str] = {}  # formatted times (they repeat across channels)

    # --- filtering -------------------------------------------------------
    def set_only_flagged(self, only: bool) -> None:
        """Show only rows with warnings (or all rows again)."""
        self.beginResetModel()
        # "unmapped" is not a warning about the readings (the Map… button deals with it).
        unmapped = int(Flag.UNMAPPED)
        self._rows = np.flatnonzero((self._flags | unmapped) != unmapped) if only else None
        self.endResetModel()

    def source_row(self, row: int) -> int:
        """The row of the frame shown at view row `row`."""
        return int(self._rows[row]) if self._rows is not None else row

    def view_row(self, frame_row: int) -> int | None:
        """The view row showing frame row `frame_row` (None if filtered out)."""
        if self._rows is None:
            return frame_row
        found = int(np.searchsorted(self._rows, frame_row))
        return found if found < len(self._rows) and self._rows[found] == frame_row else None

    # --- Qt model --------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self._rows) if self._rows is not None else len(self._value)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1]
        return str(self.source_row(section) + 1)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in HANDLED_ROLES or not index.isValid():
            return None
        row = self.source_row(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, COLUMNS[index.column()][0])
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._background(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[index.column()][0] in (
            "value",
            "interval_s",
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, COLUMNS[index.column()][0])
        return None

    def _tooltip(self, row: int, name: str) -> str | None:
        if name == "label":
            code = int(self._cols["label"][0][row])
            note = self._label_notes[code] if code >= 0 else ""
            if note:
                return note
        return describe_flags(int(self._flags[row])) if self._flags[row] else None

    def cell_text(self, row: int, name: str) -> str:
        """The text of frame row `row`, column `name` (for the delegate)."""
        return self._text(row, name)

    def row_colour(self, row: int) -> QColor | None:
        """The highlight of frame row `row`, if it has warnings."""
        return self._background(row)

    def _text(self, row: int, name: str) -> str:
        if name == "time":
            ns = int(self._time_ns[row])
            text = self._times.get(ns)
            if text is None:
                if len(self._times) > TIME_CACHE_SIZE:
                    self._times.clear()
                text = self._times[ns] = _format_time(ns)
            return text
        if name == "value":
            return f"{self._value[row]:,.3f}"
        if name == "interval_s":
            return _format_interval(int(self._interval[row]))
        if name == "estimated":
            return "estimated" if self._estimated[row] else ""
        if name == "flags":
            return describe_flags(int(self._flags[row]))
        if name == "target":
            return self._target(row)
        if name == "origin":
            return str(self._origin[row].as_py() or "")
        codes, values = self._cols[name]
        return _pick(codes, values, row)

    def _target(self, row: int) -> str:
        channel_import, meter_import, channel_id = (_pick(c, v, row) for c, v in self._ids)
        if channel_import:
            return f"channel {channel_import}"
        if channel_id:
            return f"channel id {channel_id}"
        return f"meter {meter_import}"

    def _background(self, row: int) -> QColor | None:
        value = int(self._flags[row])
        if not value:
            return None
        for flag, colour in FLAG_COLOURS:
            if value & int(flag):
                return colour
        return None


def _pick(codes: np.ndarray[Any, Any], values: list[Any], row: int) -> str:
    code = int(codes[row])
    return "" if code < 0 else str(values[code])


def _format_time(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M")


def _format_interval(seconds: int) -> str:
    if seconds <= 0:
        return "—"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
