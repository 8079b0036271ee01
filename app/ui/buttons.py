"""Buttons made in one call: with their accessible name and handler, beside a field, in a row.

`button` and `beside` serve every form (wizard pages, the map-held-pushes
dialog); `ButtonRow` is a dialog's row of OK / Cancel / own buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialogButtonBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

Role = QDialogButtonBox.ButtonRole
Standard = QDialogButtonBox.StandardButton


def button(text: str, name: str, slot: Any) -> QPushButton:
    """A push button with its accessible name, calling `slot()` when clicked."""
    made = QPushButton(text)
    made.setAccessibleName(name)
    made.clicked.connect(lambda _c=False: slot())
    return made


def beside(edit: QLineEdit, after: QPushButton) -> QWidget:
    """`edit` with a button after it (Browse…, Copy, Use the selection) on one row."""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    row.addWidget(after)
    return holder


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
