"""A captured push body shown for clicking: a JSON tree or a CSV table (first rows).

Each tree item holds its dotted path (``data.records.0.ts``); each table column
its header. `path_selected` tells the dialog what the user picked.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
)

PATH_ROLE = int(Qt.ItemDataRole.UserRole)
KIND_ROLE = PATH_ROLE + 1
CSV_ROWS_SHOWN = 20
TREE_ITEMS_SHOWN = 2000  # long arrays: the first items are enough to point at


class BodyView(QStackedWidget):
    """One body as a tree (JSON), a table (CSV) or its text (neither)."""

    path_selected = Signal(str, str)  # dotted path (CSV: column), kind ("list", "value", …)

    def __init__(self) -> None:
        super().__init__()
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Key", "Value"])
        self.tree.setAccessibleName("Captured body (JSON)")
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._on_tree_itemSelectionChanged)
        self.table = QTableWidget()
        self.table.setAccessibleName("Captured body (CSV, first rows)")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectColumns)
        self.table.itemSelectionChanged.connect(self._on_table_itemSelectionChanged)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget in (self.tree, self.table, self.text):
            self.addWidget(widget)
        self.is_csv = False

    def show_body(self, body: bytes) -> None:
        """Show a body: JSON as a tree, else CSV as a table, else its text."""
        text = body.decode("utf-8-sig", "replace")
        try:
            document = json.loads(text) if text.lstrip().startswith(("{", "[")) else None
        except ValueError:
            document = None
        if document is not None:
            self.is_csv = False
            self._fill_tree(document)
            self.setCurrentWidget(self.tree)
            return
        rows = list(csv.reader(io.StringIO(text)))
        if len(rows) >= 2 and len(rows[0]) >= 2:
            self.is_csv = True
            self._fill_table(rows)
            self.setCurrentWidget(self.table)
            return
        self.is_csv = False
        self.text.setText(text[:4000] or "(empty body)")
        self.setCurrentWidget(self.text)

    def _fill_tree(self, document: Any) -> None:
        self.tree.clear()
        root = self.tree.invisibleRootItem()
        _add_children(root, document, "")
        self.tree.expandToDepth(2)

    def _fill_table(self, rows: list[list[str]]) -> None:
        header, body = rows[0], rows[1 : CSV_ROWS_SHOWN + 1]
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setRowCount(len(body))
        self.table.setHorizontalHeaderLabels([h.strip() for h in header])
        for r, row in enumerate(body):
            for c, cell in enumerate(row[: len(header)]):
                self.table.setItem(r, c, QTableWidgetItem(cell))
        self.table.resizeColumnsToContents()

    def select_path(self, path: str) -> bool:
        """Select the item (JSON) or column (CSV) at `path`; False when there is none."""
        if self.is_csv:
            for column in range(self.table.columnCount()):
                header = self.table.horizontalHeaderItem(column)
                if header is not None and header.text() == path:
                    self.table.selectColumn(column)
                    return True
            return False
        for item in self._items():
            if item.data(0, PATH_ROLE) == path:
                self.tree.setCurrentItem(item)
                return True
        return False

    def _items(self) -> list[QTreeWidgetItem]:
        found: list[QTreeWidgetItem] = []
        stack = [self.tree.invisibleRootItem()]
        while stack:
            node = stack.pop()
            for i in range(node.childCount()):
                child = node.child(i)
                found.append(child)
                stack.append(child)
        return found

    def _on_tree_itemSelectionChanged(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.path_selected.emit(str(item.data(0, PATH_ROLE)), str(item.data(0, KIND_ROLE)))

    def _on_table_itemSelectionChanged(self) -> None:
        columns = {index.column() for index in self.table.selectedIndexes()}
        if len(columns) == 1:
            header = self.table.horizontalHeaderItem(columns.pop())
            if header is not None:
                self.path_selected.emit(header.text(), "column")


def _add_children(parent: QTreeWidgetItem, node: Any, path: str) -> None:
    entries = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
    for key, value in entries[:TREE_ITEMS_SHOWN]:
        child_path = f"{path}.{key}" if path else str(key)
        if isinstance(value, list):
            kind, shown = "list", f"[{len(value)} items]"
        elif isinstance(value, dict):
            kind, shown = "object", "{…}"
        else:
            kind, shown = "value", json.dumps(value)
        item = QTreeWidgetItem(parent, [str(key), shown])
        item.setData(0, PATH_ROLE, child_path)
        item.setData(0, KIND_ROLE, kind)
        if isinstance(value, (dict, list)):
            _add_children(item, value, child_path)
