"""Read-only tables as every window shows them: headers, row selection, a named corner button."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QTableWidget,
)


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


def header_text(
    headers: Sequence[str], section: int, orientation: Qt.Orientation, role: int
) -> Any:
    """A model's `headerData` for column titles `headers` (nothing for rows or other roles)."""
    if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
        return headers[section]
    return None
