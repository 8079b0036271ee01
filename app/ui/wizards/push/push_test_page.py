"""For pushing devices: register the device and show the address and token to type in."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QWidget

from app.core.sources.devices import DeviceError, DeviceRegistry
from app.ui.firewall import allow_port
from app.ui.plain_errors import DetailsLine
from app.ui.wizards.base_page import FormPage, note_label
from app.ui.wizards.push.first_push import FirstPushStatus
from app.ui.wizards.push.network import (
    lan_addresses,
    listens_on_network,
    push_urls,
    set_network_listening,
)
from app.ui.workers import Worker, start

log = logging.getLogger(__name__)


def device_registry(context: Any) -> DeviceRegistry:
    """The registry the listener reads (devices.json; tokens in the keyring)."""
    paths = context.paths
    return DeviceRegistry(
        paths.config_dir / "devices.json", paths.data_dir / "device-stats.json", context.secrets
    )


def push_url(settings: Any, name: str) -> str:
    """The best URL a device pushes to (a LAN address when listening on the network)."""
    return push_urls(settings.listener, name)[0]


class PushTestPage(FormPage):
    """Registers the device on arrival (forgotten again on Back or Cancel)."""

    def __init__(self) -> None:
        super().__init__(
            "Connect the device",
            "Type this address and token into the device's HTTP post channel / export. "
            "meterbridge receives the pushes while it runs (in the tray too).",
        )
        self.network = QCheckBox("&Listen on the network (devices on your LAN can reach this PC)")
        self.network.setAccessibleName("Listen on the network")
        self.network.toggled.connect(self._on_network_toggled)
        self.form.addRow("", self.network)
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
        self.others = note_label("Other addresses of this PC")
        self.extra.addWidget(self.others)
        self.extra.addWidget(self.note)
        self.status = FirstPushStatus(lambda: self.wiz().context.services)
        self.extra.addWidget(self.status)
        self.firewall = DetailsLine("Firewall")  # the firewall step's progress and result
        self.extra.addWidget(self.firewall)
        self.firewall_worker: Worker | None = None
        self.registered: str | None = None
        self.addresses = lan_addresses  # tests give their own
        self.allow_port = allow_port  # the firewall step (runs on a worker)

    def _copyable(self, edit: QLineEdit, what: str) -> QWidget:
        copy = lambda: QGuiApplication.clipboard().setText(edit.text())  # noqa: E731
        return self.with_button(edit, "Copy", f"Copy the {what}", copy)

    def initializePage(self) -> None:
        """Register the device named on the previous page and show its URL and token."""
        wizard = self.wiz()
        name = wizard.source_name()
        tz = str(wizard.page_values("source").get("tz", "UTC"))
        self.network.blockSignals(True)
        self.network.setChecked(listens_on_network(wizard.context.settings.listener))
        self.network.blockSignals(False)
        self._show_urls()
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
        serial = str(wizard.page_values("source").get("serial", ""))
        self.status.watch(name, self.url.text(), token, wizard.kind_info().connector, serial)

    def _show_urls(self) -> None:
        listener = self.wiz().context.settings.listener
        urls = push_urls(listener, self.wiz().source_name(), self.addresses)
        self.url.setText(urls[0])
        if not listens_on_network(listener):
            self.others.setText(
                "Only this PC can push to this address. For a device on the network, "
                "tick “Listen on the network”."
            )
        elif not (listener.public_host or self.addresses()):
            self.others.setText(
                "This PC has no network address a device can reach (is it connected to the "
                "network?): until it has, only this PC can push to this address."
            )
        elif len(urls) > 1:
            self.others.setText("This PC can also be reached at: " + ", ".join(urls[1:]))
        else:
            self.others.setText("")
        self.status.target = (self.url.text(), *self.status.target[1:])

    def _on_network_toggled(self, on: bool) -> None:
        """Save the choice and restart the listener on the new address (Windows: firewall)."""
        context = self.wiz().context
        set_network_listening(context.settings.listener, on)
        context.save()
        window = self.wizard().parentWidget() if self.wizard() is not None else None
        restart = getattr(window, "restart_services", None)
        if restart is not None:
            restart()
        self._show_urls()
        if on:
            self.open_firewall(context.settings.listener.port, context.paths.config_dir)
        else:
            self.firewall.setText("")

    def open_firewall(self, port: int, marker_dir: Any) -> Worker:
        """The firewall step on a worker (Windows may wait for the user): progress, then result."""
        self.firewall.setText(f"Letting devices reach port {port} through the firewall…")
        step = self.allow_port
        worker = Worker(lambda _p, _c: step(port, marker_dir))
        worker.signals.succeeded.connect(self.firewall.setText)
        worker.signals.failed.connect(
            lambda error: self.firewall.error(error, "Firewall not changed")
        )
        self.firewall_worker = start(worker)
        return worker

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
        self.status.stop()
        self.forget()
        super().cleanupPage()

    def problem(self) -> str | None:
        return None if self.registered else (self.error.text() or "The device is not registered.")

    def values(self) -> dict[str, Any]:
        return {"push_url": self.url.text()}
