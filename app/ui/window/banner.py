"""A dismissable message above the main window's tabs (never a blocking dialog)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QToolButton, QWidget

from app.ui.plain_errors import plain_and_details, show_details_box


class Banner(QWidget):
    """A one-line message; an error may keep its technical detail behind “Details…”."""

    def __init__(self) -> None:
        super().__init__()
        self.label = QLabel()
        self.label.setAccessibleName("Message")
        self.label.setWordWrap(True)
        self.details = ""
        self.details_button = QPushButton("&Details…")
        self.details_button.setAccessibleName("Details of the message")
        self.details_button.clicked.connect(self.show_details)
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Dismiss message")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self.label, 1)
        row.addWidget(self.details_button)
        row.addWidget(close)
        self.setAutoFillBackground(True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # the tint shows
        self.hide()

    def say(self, text: str, *, error: bool = False, details: str = "") -> None:
        """Show `text` (an error in a warm colour); `details` waits behind a button."""
        colour = "rgba(220,50,47,0.18)" if error else "rgba(38,139,210,0.16)"
        self.setStyleSheet(f"Banner {{ background: {colour}; border-radius: 4px; }}")
        self.label.setText(text)
        self.details = details
        self.details_button.setVisible(bool(details))
        self.show()

    def error(self, message: str, what: str = "") -> None:
        """An error in one plain sentence (led by `what`), its technical part behind Details…"""
        plain, details = plain_and_details(message, what)
        self.say(plain, error=True, details=details)

    def show_details(self) -> QMessageBox:
        """The technical detail, in a box the user can copy from."""
        self._box = show_details_box(self, self.label.text(), self.details)
        return self._box
