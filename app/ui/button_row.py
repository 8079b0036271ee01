"""The button row of a dialog: each button with its role, accessible name and handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialogButtonBox, QPushButton

Role = QDialogButtonBox.ButtonRole
Standard = QDialogButtonBox.StandardButton


class ButtonRow(QDialogButtonBox):
    """A `QDialogButtonBox` whose buttons are added with their click handler.

    A button's accessible name is its text without the mnemonic ``&`` and a
    trailing ``…``, unless `name` says otherwise.
    """

    def add(self, text: str, role: Role, slot: Callable[[], Any], name: str = "") -> QPushButton:
        """A button with `text` in the place `role` gives it, calling `slot()` when clicked."""
        button = self.addButton(text, role)
        button.setAccessibleName(name or text.replace("&", "").removesuffix("…"))
        button.clicked.connect(slot)
        return button

    def add_standard(self, which: Standard, slot: Callable[[], Any], name: str = "") -> QPushButton:
        """A standard button (OK, Cancel, Close) calling `slot()` when clicked."""
        button = self.addButton(which)
        if name:
            button.setAccessibleName(name)
        button.clicked.connect(slot)
        return button
