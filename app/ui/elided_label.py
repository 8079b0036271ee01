"""A one-line label that ends in "…" when its text does not fit (full text in `text()`)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel


class ElidedLabel(QLabel):
    """Paints its text elided at the right edge instead of clipping it mid-word.

    `text()` stays the whole text (screen readers and tests read it); set a
    tooltip to show it on hover.
    """

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the text, elided to the label's width."""
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width()
        )
        painter.drawText(self.contentsRect(), int(self.alignment()), shown)
        painter.end()
