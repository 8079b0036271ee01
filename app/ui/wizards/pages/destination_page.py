"""Shared page: where the readings of every source go (set once, in Settings).

Delivery is app-wide: the EnergyCAP connection and API of the settings, or
the outbox when no connection is set. The page says so plainly, shows the
current destination (`app.core.sources.setup.destination_text`), tests the
key and opens Settings; it offers no per-source choice, which would be ignored.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel

from app.core.sources.records import PUSH_KINDS
from app.core.sources.setup import destination_text
from app.ui.connection_test import energycap_test_worker
from app.ui.context import API_KEY_SECRET
from app.ui.plain_errors import DetailsLine
from app.ui.wizards.base_page import FormPage, button
from app.ui.workers import Worker, start

ALL_SOURCES = (
    "This is the same for every source: the destination and the EnergyCAP API are set "
    "once, in Settings, not per source. Changing them there changes them for all sources."
)


class DestinationPage(FormPage):
    """Where the readings of every source go, with buttons to test the key and open Settings."""

    def __init__(self) -> None:
        super().__init__("Destination", "Where the readings of every source go.")
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.add("Readings go to:", self.where, name="Destination of all sources")
        self.note = QLabel(ALL_SOURCES)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("The destination applies to all sources")
        self.form.addRow("", self.note)
        self.open_settings = button(
            "Open &Settings…", "Open Settings", self._on_open_settings_clicked
        )
        self.open_settings.setAccessibleDescription(
            "Change the EnergyCAP connection, API or outbox folder of all sources"
        )
        self.test = button(
            "&Test the EnergyCAP key", "Test the EnergyCAP key", self._on_test_clicked
        )
        self.result = DetailsLine("EnergyCAP test result")  # technical detail behind Details…
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_settings)
        buttons.addWidget(self.test)
        buttons.addStretch(1)
        self.form.addRow("", buttons)
        self.form.addRow("", self.result)
        self.worker: Worker | None = None
        self.settings_dialog: Any = None

    def initializePage(self) -> None:
        """Describe the destination from the current settings."""
        self.describe()

    def describe(self) -> None:
        """Say where readings go now (after Settings changed too)."""
        context = self.wiz().context
        has_key = bool(context.secrets.get(API_KEY_SECRET))
        pushed = self.wiz().kind in PUSH_KINDS
        self.where.setText(
            destination_text(context.settings, context.paths, key_saved=has_key, pushed=pushed)
        )
        self.test.setEnabled(bool(context.settings.energycap.url.strip()))
        self.result.setText("")

    def _on_open_settings_clicked(self) -> None:
        """The main window's Settings (its services follow a change), else a dialog of our own."""
        wizard = self.wiz()
        actions = getattr(wizard.parentWidget(), "actions_", None)
        if actions is not None and hasattr(actions, "open_settings"):
            dialog = actions.open_settings()
        else:
            from app.ui.settings.dialog import SettingsDialog

            dialog = SettingsDialog(wizard.context, parent=wizard)
            dialog.show()
        dialog.finished.connect(self._on_settings_finished)
        self.settings_dialog = dialog

    def _on_settings_finished(self, _result: int) -> None:
        self.describe()
        self.open_settings.setFocus()

    def _on_test_clicked(self) -> None:
        context = self.wiz().context
        key = context.secrets.get(API_KEY_SECRET) or ""
        self.result.setText("Testing…")
        worker = energycap_test_worker(context.settings.energycap.url, key)
        worker.signals.succeeded.connect(self.result.setText)
        worker.signals.failed.connect(lambda error: self.result.error(error))
        self.worker = start(worker)

    def values(self) -> dict[str, Any]:
        """Nothing per source: delivery is app-wide."""
        return {}
