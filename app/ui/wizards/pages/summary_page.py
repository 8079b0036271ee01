"""Last page: what will be saved, in words; Finish saves it."""

from __future__ import annotations

from PySide6.QtWidgets import QPlainTextEdit

from app.core.sources.records import PUSH_KINDS
from app.core.sources.setup import check_setup, destination_text
from app.ui.context import API_KEY_SECRET
from app.ui.wizards.base_page import FormPage


class SummaryPage(FormPage):
    """A read-only summary of the source."""

    def __init__(self) -> None:
        super().__init__("Ready", "Check the summary, then press Finish to save the source.")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Summary of the new source")
        self.extra.addWidget(self.text)

    def initializePage(self) -> None:
        """Describe the setup the wizard will save."""
        setup = self.wiz().setup()
        lines = [
            f"Name: {setup.name}",
            f"Kind: {self.wiz().kind_info().title.rstrip('…')} (connector {setup.connector})",
            *(f"  {k}: {v}" for k, v in setup.settings.items()),
            f"Mapping: {setup.mapping_file or 'none (source id = meter import id)'}",
            f"Schedule: every {setup.interval_minutes} min",
            f"Destination (all sources, set in Settings): {self._destination()}",
        ]
        self.text.setPlainText("\n".join(lines))

    def _destination(self) -> str:
        context = self.wiz().context
        key_saved = bool(context.secrets.get(API_KEY_SECRET))
        pushed = self.wiz().kind in PUSH_KINDS
        return destination_text(context.settings, context.paths, key_saved=key_saved,
                                pushed=pushed)  # fmt: skip

    def problem(self) -> str | None:
        problems = check_setup(self.wiz().setup())
        return " ".join(problems) if problems else None

    def nextId(self) -> int:
        """The last page."""
        return -1
