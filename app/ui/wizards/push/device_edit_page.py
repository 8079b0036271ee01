"""Editing a push device: its address and token stay; a new token only when asked."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QLineEdit

from app.core.sources.devices import DeviceError
from app.ui.wizards.base_page import FormPage, button, note_label
from app.ui.wizards.push.push_test_page import device_registry, push_url

log = logging.getLogger(__name__)


class DeviceEditPage(FormPage):
    """The device's push address and token, and a button to replace the token."""

    def __init__(self) -> None:
        super().__init__(
            "The device's address and token",
            "They stay as they are: the device keeps pushing while you edit the rest.",
        )
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.add("Push &address:", self.url, name="Push address")
        self.token = QLineEdit()
        self.token.setReadOnly(True)
        self.add("&Token:", self.token, name="Token")
        self.renew = button("Issue a &new token…", "Issue a new token", self._on_renew_clicked)
        self.renew.setToolTip(
            "The old token stops working at once: type the new one into the device"
        )
        self.form.addRow("", self.renew)
        self.note = note_label("Token note")
        self.extra.addWidget(self.note)
        self.renewed = False

    def initializePage(self) -> None:
        """Show the address and the token kept in the keyring (if one is)."""
        wizard = self.wiz()
        name = wizard.source_name()
        self.url.setText(push_url(wizard.context.settings, name))
        if self.renewed:
            return
        token = device_registry(wizard.context).stored_token(name)
        self.token.setText(token or "")
        self.token.setPlaceholderText("kept, not shown: no keyring held it (shown once when added)")

    def _on_renew_clicked(self) -> None:
        wizard = self.wiz()
        name = wizard.source_name()
        try:
            token = device_registry(wizard.context).new_token(name)
        except DeviceError as exc:
            self.error.setText(str(exc))
            return
        self.renewed = True
        self.token.setText(token)
        self.note.setText(
            "New token issued: the old one no longer works. Type this one into the device."
        )
        log.info("device %s: new token issued", name)

    def values(self) -> dict[str, Any]:
        return {"push_url": self.url.text()}
