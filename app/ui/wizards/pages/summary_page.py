"""Last page: what will be saved as labelled rows, where readings go; Finish saves it.

The destination is app-wide (Settings), so it is said here with buttons to test
the key and open Settings, not asked on a page of its own. For a push device,
the page also shows live whether the first push has arrived.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from app.core.sources.records import PUSH_KINDS
from app.core.sources.setup import check_setup
from app.ui.wizards.pages.destination_page import DestinationPage
from app.ui.wizards.pages.summary_words import minutes, setting_rows
from app.ui.wizards.push.first_push import FirstPushStatus


class SummaryPage(DestinationPage):
    """A read-only summary of the source, the destination, and (devices) the first push."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Ready")
        self.setSubTitle("Check the summary, then press Finish to save the source.")
        self.rows_widget = QWidget()
        self.rows_widget.setAccessibleName("Summary of the new source")
        self.rows = QFormLayout(self.rows_widget)
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.form.insertRow(0, self.rows_widget)
        self.first_push = FirstPushStatus(lambda: self.wiz().context.services)
        self.extra.addWidget(self.first_push)
        self.first_push.hide()

    def initializePage(self) -> None:
        """Describe the setup the wizard will save."""
        super().initializePage()
        wizard = self.wiz()
        setup = wizard.setup()
        while self.rows.rowCount():
            self.rows.removeRow(0)
        pushed = wizard.kind in PUSH_KINDS
        mapping = setup.mapping_file or "the app's mapping (Mapping on the toolbar)"
        rows = [("Name", setup.name), ("Kind", wizard.kind_info().title.rstrip("…")),
                *setting_rows(setup.settings), ("Mapping", mapping)]  # fmt: skip
        if not pushed:
            rows.append(("Runs", f"every {minutes(setup.interval_minutes)}"))
        for label, value in rows:
            shown = QLabel(value)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            shown.setWordWrap(True)
            shown.setAccessibleName(label)
            self.rows.addRow(f"{label}:", shown)
        self._watch_first_push(pushed)

    def _watch_first_push(self, pushed: bool) -> None:
        wizard = self.wizard()
        pages = [wizard.page(n) for n in wizard.pageIds()] if wizard is not None else []
        found = [p.status for p in pages if isinstance(getattr(p, "status", None), FirstPushStatus)]
        status = found[0] if found else None
        self.first_push.setVisible(pushed and status is not None)
        if pushed and status is not None and status.device:
            self.first_push.watch(status.device, *status.target)

    def summary_text(self) -> str:
        """The rows as text (``Label: value`` lines)."""
        lines = []
        for number in range(self.rows.rowCount()):
            label = self.rows.itemAt(number, QFormLayout.ItemRole.LabelRole).widget()
            value = self.rows.itemAt(number, QFormLayout.ItemRole.FieldRole).widget()
            lines.append(f"{label.text()} {value.text()}")  # type: ignore[attr-defined]
        return "\n".join([*lines, f"Readings go to: {self.where.text()}"])

    def cleanupPage(self) -> None:
        """Back: stop following the device."""
        self.first_push.stop()
        super().cleanupPage()

    def problem(self) -> str | None:
        problems = check_setup(self.wiz().setup())
        return " ".join(problems) if problems else None

    def nextId(self) -> int:
        """The last page."""
        return -1
