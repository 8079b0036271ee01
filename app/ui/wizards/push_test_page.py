"""For pushing devices: the address and token to type into the device."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget

from app.core import ui_validation as v
from app.ui.wizards.base_page import FormPage


class PushTestPage(FormPage):
    """Shows the push URL and a fresh token, with copy buttons."""

    def __init__(self) -> None:
        super().__init__(
            "Connect the device",
            "Type this address and token into the device's HTTP post channel / export. "
            "meterbridge's listener must be running (it runs while the app is in the tray).",
        )
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.token = QLineEdit(v.new_token())
        self.add("Push &address:", self._copyable(self.url, "address"), name="Push address row")
        self.url.setAccessibleName("Push address")
        self.add("&Token:", self._copyable(self.token, "token"), name="Token row")
        self.token.setAccessibleName("Token")
        self.token.setToolTip("Sent by the device as a bearer token (or Basic password).")
        new = QPushButton("&New token")
        new.setAccessibleName("Make a new token")
        new.clicked.connect(lambda: self.token.setText(v.new_token()))
        self.form.addRow("", new)

    def _copyable(self, edit: QLineEdit, what: str) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        copy = QPushButton("Copy")
        copy.setAccessibleName(f"Copy the {what}")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(edit.text()))
        row.addWidget(copy)
        return holder

    def initializePage(self) -> None:
        """Build the address from the listener settings and the source name."""
        wizard = self.wiz()
        listener = getattr(wizard.context.settings, "listener", None)
        host = getattr(listener, "public_host", "") or getattr(listener, "host", "127.0.0.1")
        port = int(getattr(listener, "port", 8765))
        slug = "".join(c if c.isalnum() else "-" for c in wizard.source_name().lower())
        self.url.setText(v.push_url(host, port, f"/push/{wizard.kind}/{slug.strip('-')}"))

    def problem(self) -> str | None:
        return v.check_token(self.token.text())

    def values(self) -> dict[str, Any]:
        return {"push_url": self.url.text()}
