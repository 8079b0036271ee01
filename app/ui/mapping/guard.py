"""The mapping editor's watch over its rows: each checked as edited, unsaved edits kept.

A bad cell turns red with the reason as its tooltip and in the status line;
closing with unsaved edits asks to save, discard or go back (never a silent loss).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QMessageBox, QTableWidget, QTableWidgetItem, QWidget

from app.core.mapping import MAPPING_HEADER
from app.ui.mapping.row_check import row_problem, uses_default
from app.ui.plain_errors import DetailsLine

BAD = QColor(220, 50, 47, 90)


class EditGuard(QObject):
    """Checks rows of `table` as they change and remembers whether anything is unsaved."""

    def __init__(self, table: QTableWidget, status: QLabel | DetailsLine) -> None:
        super().__init__(table)
        self.table, self.status = table, status
        self.dirty = False
        self.quiet = False  # while the editor fills rows itself
        table.itemChanged.connect(self._on_item_changed)

    def values(self, row: int) -> dict[str, str]:
        """The row's cells by mapping column name."""
        cells = {}
        for column, name in enumerate(MAPPING_HEADER):
            item = self.table.item(row, column)
            cells[name] = item.text() if item is not None else ""
        return cells

    def check_row(self, row: int) -> str | None:
        """Highlight the row's bad cell (if any); returns the problem in words."""
        values = self.values(row)
        problem = row_problem(values)
        for column, name in enumerate(MAPPING_HEADER):
            item = self.table.item(row, column)
            if item is None:
                continue
            bad = problem is not None and problem[0] == name
            item.setBackground(QBrush(BAD) if bad else QBrush())
            item.setToolTip(problem[1] if bad and problem else "")
        if problem is not None:
            return f"Row {row + 1}: {problem[1]}"
        if uses_default(values):
            return (f"Row {row + 1} has no target yet: its readings go to the meter whose import "
                    "id is the source id until you give one.")  # fmt: skip
        return None

    def first_problem(self) -> str | None:
        """The first row that cannot be saved, in words (every row is highlighted)."""
        found = None
        for row in range(self.table.rowCount()):
            message = self.check_row(row)
            if message and found is None and row_problem(self.values(row)) is not None:
                found = message
        return found

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self.quiet:
            return
        self.dirty = True
        self.quiet = True  # colouring a cell changes it too
        try:
            message = self.check_row(item.row())
        finally:
            self.quiet = False
        self.status.setText(message or f"Row {item.row() + 1} is fine.")

    def confirm_close(
        self, parent: QWidget, save: Callable[[], bool], close: Callable[[], None]
    ) -> bool:
        """True when the editor may close now; else ask (not blocking) and close after."""
        if not self.dirty:
            return True
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved mapping",
                          "The mapping has changes that are not saved.", parent=parent)  # fmt: skip
        box.setInformativeText("Save them before closing?")
        box.setStandardButtons(QMessageBox.StandardButton.Save
                               | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)  # fmt: skip
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def decided(answer: int) -> None:
            if answer == QMessageBox.StandardButton.Save and not save():
                return  # the status line says why it was not saved
            if answer in (QMessageBox.StandardButton.Save, QMessageBox.StandardButton.Discard):
                self.dirty = False
                close()

        box.finished.connect(decided)
        self.question = box
        box.open()
        return False
