"""For pushing devices: register the device and show the address and token to type in."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from app.core.sources.devices import DeviceError, DeviceRegistry
from app.ui.wizards.base_page import FormPage

log = logging.getLogger(__name__)


def device_registry(context: Any) -> DeviceRegistry:
    """The registry the listener reads (devices.json; tokens in the keyring)."""
    paths = context.paths
    return DeviceRegistry(
        paths.config_dir / "devices.json", paths.data_dir / "device-stats.json", context.secrets
    )


def push_url(settings: Any, name: str) -> str:
    """The URL a device pushes to, from the listener settings (as `device add` prints it)."""
    listener = settings.listener
    scheme = "https" if listener.tls_cert else "http"
    host = listener.public_host or listener.host
    return f"{scheme}://{host}:{listener.port}/push/{name}"


class PushTestPage(FormPage):
    """Registers the device on arrival (forgotten again on Back or Cancel)."""

    def __init__(self) -> None:
        super().__init__(
            "Connect the device",
            "Type this address and token into the device's HTTP post channel / export. "
            "meterbridge's listener must be running (it runs while the app is in the tray).",
        )
        self.url = QLineEdit()
        self.url.setReadOnly(True)
        self.token = QLineEdit()
        self.token.setReadOnly(True)
        self.add("Push &address:", self._copyable(self.url, "address"), name="Push address row")
        self.url.setAccessibleName("Push address")
        self.add("&Token:", self._copyable(self.token, "token"), name="Token row")
        self.token.setAccessibleName("Token")
        self.note = QLabel(
            "The device sends the token as 'Authorization: Bearer <token>', as the Basic-auth "
            "password, or as ?token= in the address."
        )
        self.note.setWordWrap(True)
        self.extra.addWidget(self.note)
        self.registered: str | None = None

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
        """Register the device named on the previous page and show its URL and token."""
        wizard = self.wiz()
        name = wizard.source_name()
        tz = str(wizard.page_values("source").get("tz", "UTC"))
        self.url.setText(push_url(wizard.context.settings, name))
        try:
            token = device_registry(wizard.context).add(name, wizard.kind_info().connector, tz)
        except DeviceError as exc:
            self.token.clear()
            self.error.setText(str(exc))
            return
        self.registered = name
        self.token.setText(token)
        self.error.setText("")
        log.info("device %s registered for %s pushes", name, wizard.kind_info().connector)

    def forget(self) -> None:
        """Unregister the device this page registered (Back or Cancel)."""
        if self.registered is None:
            return
        try:
            device_registry(self.wiz().context).remove(self.registered)
        except DeviceError as exc:
            log.warning("could not forget device %s: %s", self.registered, exc)
        self.registered = None
        self.token.clear()

    def cleanupPage(self) -> None:
        """Back: the name may change, so the registration goes."""
        self.forget()
        super().cleanupPage()

    def problem(self) -> str | None:
        return None if self.registered else (self.error.text() or "The device is not registered.")

    def values(self) -> dict[str, Any]:
        return {"push_url": self.url.text()}
