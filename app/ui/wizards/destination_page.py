"""Shared page: send to EnergyCAP (with a key test) or write files to the outbox."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QButtonGroup, QLabel, QPushButton, QRadioButton

from app.ui.connection_test import energycap_test_worker
from app.ui.context import API_KEY_SECRET
from app.ui.wizards.base_page import FormPage
from app.ui.workers import Worker, start

APIS = ["readings", "esa", "import"]


class DestinationPage(FormPage):
    """Where readings go, and which EnergyCAP API carries them."""

    def __init__(self) -> None:
        super().__init__("Destination", "Where this source's readings go.")
        self.to_energycap = QRadioButton("Send to &EnergyCAP")
        self.to_outbox = QRadioButton("Write EnergyCAP import files to the &outbox folder")
        for button in (self.to_energycap, self.to_outbox):
            button.setAccessibleName(button.text().replace("&", ""))
        self.group = QButtonGroup(self)
        self.group.addButton(self.to_energycap, 0)
        self.group.addButton(self.to_outbox, 1)
        self.to_energycap.setChecked(True)
        self.form.addRow("", self.to_energycap)
        self.form.addRow("", self.to_outbox)
        self.api = self.combo("EnergyCAP &API:", APIS, help="readings: classic channels; "
                              "esa: Smart Analytics; import: CSV files with a profile")  # fmt: skip
        self.connection = QLabel()
        self.connection.setWordWrap(True)
        self.add("Connection:", self.connection, name="EnergyCAP connection")
        self.test = QPushButton("&Test the EnergyCAP key")
        self.test.setAccessibleName("Test the EnergyCAP key")
        self.test.clicked.connect(self._on_test_clicked)
        self.result = QLabel("")
        self.result.setAccessibleName("EnergyCAP test result")
        self.result.setWordWrap(True)
        self.form.addRow("", self.test)
        self.form.addRow("", self.result)
        self.worker: Worker | None = None

    def initializePage(self) -> None:
        """Describe the connection from the settings."""
        context = self.wiz().context
        url = context.settings.energycap.url
        has_key = bool(context.secrets.get(API_KEY_SECRET))
        self.api.setCurrentText(context.settings.energycap.api)
        if not url:
            self.connection.setText("No EnergyCAP host yet: set it in File → Settings.")
        else:
            key = "key saved" if has_key else "no API key saved yet (File → Settings)"
            self.connection.setText(f"{url} — {key}")

    def _on_test_clicked(self) -> None:
        context = self.wiz().context
        key = context.secrets.get(API_KEY_SECRET) or ""
        self.result.setText("Testing…")
        worker = energycap_test_worker(context.settings.energycap.url, key)
        worker.signals.succeeded.connect(self.result.setText)
        worker.signals.failed.connect(self.result.setText)
        self.worker = start(worker)

    def values(self) -> dict[str, Any]:
        destination = "energycap" if self.to_energycap.isChecked() else "outbox"
        return {"destination": destination, "api": self.api.currentText()}
