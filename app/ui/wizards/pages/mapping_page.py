"""Shared page: which mapping file routes this source's readings to EnergyCAP channels."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFileDialog, QLabel

from app.core.sources import validation as v
from app.ui.wizards.base_page import FormPage


class MappingPage(FormPage):
    """Choose the mapping CSV (or none: readings go to meter import id = source id)."""

    def __init__(self) -> None:
        super().__init__(
            "Mapping",
            "A mapping sends each source id (and quantity) to an EnergyCAP channel.",
        )
        self.file = self.path_field(
            "Mapping &file:", "none: the source id is the meter's import id",
            "Browse for a mapping file", self._on_browse_clicked, browse="Bro&wse…",
        )  # fmt: skip
        note = QLabel(
            "Tip: Tools → Mapping editor builds the file from EnergyCAP's own meter and "
            "channel lists. Unmapped readings are shown in the preview before anything is sent."
        )
        note.setWordWrap(True)
        self.extra.addWidget(note)

    def initializePage(self) -> None:
        """Start from the mapping file in the settings."""
        if not self.file.text():
            self.file.setText(self.wiz().context.settings.mapping_file)

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Mapping file", "", "CSV (*.csv)")
        if name:
            self.file.setText(name)

    def problem(self) -> str | None:
        text = self.file.text().strip()
        return v.check_existing_file(text) if text else None

    def values(self) -> dict[str, Any]:
        return {"mapping_file": self.file.text().strip()}
