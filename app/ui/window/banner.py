"""A dismissable message above the main window's tabs (never a blocking dialog)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from app.ui.plain_errors import DetailsLine
from app.ui.snapshot import Snapshot, device_file_banner


class Banner(DetailsLine):
    """A one-line message on a tint; an error may keep its technical detail behind “Details…”.

    The message, its Details… button and `error` are `DetailsLine`'s; the banner
    adds the tint, a dismiss button, and shows itself when it has something to say.
    """

    def __init__(self) -> None:
        super().__init__("Message")
        self.details_button.setText("&Details…")
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Dismiss message")
        close.clicked.connect(self.hide)
        row = self.layout()
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(close)
        self.setAutoFillBackground(True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)  # the tint shows
        self.hide()

    def say(self, text: str, *, error: bool = False, details: str = "") -> None:
        """Show `text` on a tint (warm for an error); `details` waits behind a button."""
        colour = "rgba(220,50,47,0.18)" if error else "rgba(38,139,210,0.16)"
        self.setStyleSheet(f"Banner {{ background: {colour}; border-radius: 4px; }}")
        super().say(text, details=details)  # the tint says it is an error, not the text colour
        self.show()


def show_device_problems(banner: Banner, snap: Snapshot, shown: str) -> str:
    """Tell of devices.json's problems once (again when they change); hide it once fixed.

    Args:
        shown: the full text of the problems told before ("" none).

    Returns:
        The full text of the problems now (what to pass as `shown` next time).
    """
    plain, details = device_file_banner(snap)
    if plain and details != shown:
        banner.say(plain, error=True, details=details)
    elif not plain and shown and banner.details == shown:
        banner.hide()  # fixed: the banner no longer tells the truth
    return details
