"""Shared page: this source uses the app's mapping, or (rarely) a mapping file of its own."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFileDialog, QLabel

from app.core.sources import validation as v
from app.ui.wizards.base_page import FormPage


class MappingPage(FormPage):
    """The app's mapping (empty field), or a mapping CSV for this source only."""

    def __init__(self) -> None:
        super().__init__(
            "Mapping",
            "Which EnergyCAP meter or channel each of this source's meters goes to.",
        )
        self.file = self.path_field(
            "Own mapping &file:", "none: the app's mapping (Mapping on the toolbar)",
            "Browse for a mapping file for this source only", self._on_browse_clicked,
            browse="Bro&wse…",
        )  # fmt: skip
        note = QLabel(
            "Most sources share the app's mapping: edit it with Mapping on the toolbar (it "
            "loads EnergyCAP's own meters and channels). A meter it does not name goes to the "
            "EnergyCAP meter whose import id is the meter's number; the preview and the "
            "dashboard show such meters. A file here is only for a source that needs its own."
        )
        note.setWordWrap(True)
        self.extra.addWidget(note)

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Mapping file", "", "CSV (*.csv)")
        if name:
            self.file.setText(name)

    def problem(self) -> str | None:
        text = self.file.text().strip()
        return v.check_existing_file(text) if text else None

    def values(self) -> dict[str, Any]:
        return {"mapping_file": self.file.text().strip()}
