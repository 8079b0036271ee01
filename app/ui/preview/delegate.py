"""A lean painter for the readings table: one model lookup per cell, not seven.

The stock delegate asks the model for about seven roles per cell through
Python; with a busy machine that made a full repaint take tens of ms. This one
reads the text and the row's highlight straight from the model's arrays.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView

from app.ui.preview.model import COLUMNS, ReadingsModel

RIGHT_ALIGNED = {"value", "interval_s"}
ALIGN_LEFT = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
ALIGN_RIGHT = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight)
PADDING = 4


class ReadingsDelegate(QStyledItemDelegate):
    """Paints text, selection and the warning highlight of one cell."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        model = index.model()
        if not isinstance(model, ReadingsModel):
            super().paint(painter, option, index)
            return
        row = model.source_row(index.row())
        name = COLUMNS[index.column()][0]
        rect: QRect = option.rect  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        if selected:
            painter.fillRect(rect, palette.highlight())
        else:
            if index.row() % 2:
                painter.fillRect(rect, palette.alternateBase())
            colour = model.row_colour(row)
            if colour is not None:
                painter.fillRect(rect, colour)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        align = ALIGN_RIGHT if name in RIGHT_ALIGNED else ALIGN_LEFT
        text_rect = rect.adjusted(PADDING, 0, -PADDING, 0)
        text = model.cell_text(row, name)
        metrics = painter.fontMetrics()
        if metrics.horizontalAdvance(text) > text_rect.width():  # a long site name: “…”, not cut
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, align, text)


def size_columns(view: QTableView, model: ReadingsModel, sample_rows: int = 40) -> None:
    """Column widths from the header and the first rows' text (cheap, unlike Qt's resize)."""
    metrics = view.fontMetrics()
    rows = [model.source_row(r) for r in range(min(sample_rows, model.rowCount()))]
    for column, (name, title) in enumerate(COLUMNS):
        texts: list[Any] = [title, *(model.cell_text(r, name) for r in rows)]
        width = max(metrics.horizontalAdvance(str(t)) for t in texts) + 3 * PADDING + 8
        view.setColumnWidth(column, min(width, 360))
