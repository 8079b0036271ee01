"""What the main window's menus and buttons do (dialogs, wizards, send, replay)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from app import __version__
from app.core.preview.data import PreviewData
from app.ui.window.host import WindowHost
from app.ui.window.source_actions import SourceActions
from app.ui.workers import Worker, start_kept
from connectors.base import READING_COLUMNS

log = logging.getLogger(__name__)

CLI_REPLAY = "(see `meterbridge replay`)"  # the journal's words for the command line

# Every extension a connector reads (UK HH CSV and Stark .df2, generic CSV, Readings-API JSON,
# device logs), compressed or not.
EXTENSIONS = ("csv", "df2", "txt", "tsv", "dat", "json", "xml", "log", "gz")
FILE_FILTER = (
    f"Meter data ({' '.join('*.' + e for e in EXTENSIONS)});;"
    "UK half-hourly (*.csv *.df2);;All files (*)"
)


class MainActions:
    """The main window's commands, kept apart so the window stays a layout."""

    def __init__(self, window: WindowHost) -> None:
        self.window = window
        self.dialogs: list[Any] = []
        self.workers: list[Worker] = []
        self.sources = SourceActions(window)  # Edit, Remove, Run now, Pause on the dashboard

    # --- files -----------------------------------------------------------
    def open_dialog(self) -> None:
        """File → Open: choose files and preview each."""
        names, _ = QFileDialog.getOpenFileNames(self.window, "Open meter data", "", FILE_FILTER)
        for name in names:
            self.window.open_path(Path(name))

    # --- dialogs -----------------------------------------------------------
    def wizard_kinds(self) -> list[tuple[str, str]]:
        """(kind, menu title) of every setup wizard."""
        from app.ui.wizards.kinds import WIZARD_KINDS

        return [(k.kind, k.title) for k in WIZARD_KINDS]

    def open_wizard(self, kind: str | None, editing: Any = None) -> Any:
        """Open the setup wizard of `kind` (None: ask which kind first), or edit a saved source."""
        from app.ui.wizards.source_wizard import SourceWizard

        wizard = SourceWizard(self.window.context, kind, parent=self.window, editing=editing)
        wizard.source_saved.connect(lambda setup: self._on_source_saved(setup, editing))
        return self._keep(wizard)

    def _on_source_saved(self, setup: Any, editing: Any) -> None:
        verb = "changed" if editing is not None else "added"
        self.window.banner.say(f"Source “{setup.name}” {verb}.")
        services = self.window.services
        if services is not None and hasattr(services, "wake_schedule"):
            services.wake_schedule()  # a new or edited job runs at once
        self.window.refresh()

    def open_settings(self) -> Any:
        """Open the settings dialog."""
        from app.ui.settings.dialog import SettingsDialog

        dialog = SettingsDialog(self.window.context, parent=self.window)
        dialog.accepted.connect(self.window.update_connection_label)
        dialog.accepted.connect(self.window.restart_services)
        return self._keep(dialog)

    def open_mapping_editor(self) -> Any:
        """Open the mapping editor on the mapping file in use."""
        from app.ui.mapping.editor import MappingEditor

        return self._keep(MappingEditor(self.window.context, parent=self.window))

    def map_sources(self, preview: Any, pairs: list[tuple[str, str]]) -> Any:
        """Open the mapping editor with a row per unmapped source; re-preview after Save."""
        editor = self.open_mapping_editor()
        labels = preview.data.labels if getattr(preview, "data", None) is not None else {}
        added = editor.add_missing(pairs, labels)
        editor.status.setText(
            f"Added {added} row(s) for unmapped sources: give each an EnergyCAP channel or meter "
            "(rows left without one go to the meter whose import id is the source id), then Save."
        )
        editor.saved.connect(lambda _path: preview.remap(self.window.context.mapping_table()))
        return editor

    def fix_mapping(self, pairs: list[tuple[str, str]]) -> Any:
        """Open the mapping editor with a row for each refused source not mapped yet."""
        editor = self.open_mapping_editor()
        added = editor.add_missing(pairs)
        editor.status.setText(
            f"{added} refused meter(s) added: give each an EnergyCAP channel or meter, Save, "
            "then press Replay on the Dead letters tab." if added else
            "The refused meters are in the mapping already: check their rows, Save, then Replay."
        )  # fmt: skip
        return editor

    def open_user_guide(self) -> Any:
        """Help: the user guide shipped with the app."""
        from app.ui.help_window import HelpWindow

        return self._keep(HelpWindow(parent=self.window))

    def _keep(self, dialog: Any) -> Any:
        self.dialogs = [d for d in self.dialogs if d.isVisible()] + [dialog]
        dialog.show()
        dialog.raise_()
        return dialog

    def about(self) -> None:
        """The About box."""
        QMessageBox.about(
            self.window,
            "About meterbridge",
            f"<b>meterbridge {__version__}</b><p>Moves meter interval data from systems "
            "EnergyCAP cannot read into EnergyCAP.</p>"
            f"<p>Data: {self.window.context.paths.data_dir}<br>"
            f"Logs: {self.window.context.paths.log_dir}</p>",
        )

    # --- work --------------------------------------------------------------
    def send(self, data: PreviewData, preview: Any = None) -> Worker:
        """Journal the previewed readings (durably); delivery takes them from there.

        The answer shows where the user is looking: the preview's status bar (and the banner).
        """
        journal_file = self.window.context.paths.journal_file
        # Journal what the source said (delivery maps it), under the connector id as `send` does.
        readings = data.mapped.loc[:, list(READING_COLUMNS)]
        if "source_value" in data.mapped.columns:
            readings = readings.assign(value=data.mapped["source_value"].to_numpy())
        name, label, hints = data.connector_id, data.source.name, list(data.hints)

        def job(_progress: Any, _cancelled: Any) -> str:
            from app.core.journal.store import Journal

            journal = Journal(journal_file)
            try:
                result = journal.accept(readings, source=name, hints=hints)
            finally:
                journal.close()
            said = result.describe().replace(CLI_REPLAY, "(Replay on the Dead letters tab)")
            return f"{label}: {said}. {waiting}"

        waiting = (
            "Sending to EnergyCAP now; the dashboard shows how it goes."
            if self.window.connected()
            else "Not connected to EnergyCAP: the readings are kept safely on this PC and go "
            "to EnergyCAP as soon as you connect it (Getting started → Set up…)."
        )
        worker = self._run(job, "Queued for EnergyCAP")
        if preview is not None:
            worker.signals.succeeded.connect(lambda text: preview.say(f"Queued: {text}"))
            worker.signals.failed.connect(lambda error: preview.say_error(error, "Not queued"))
        return worker

    def replay(self, source: str | None) -> Worker:
        """Queue dead letters again (of one source, or all)."""
        journal_file = self.window.context.paths.journal_file

        def job(_progress: Any, _cancelled: Any) -> str:
            from app.core.journal.store import Journal

            journal = Journal(journal_file)
            try:
                count = journal.replay(source)
            finally:
                journal.close()
            return f"{count} refused reading(s) queued again"

        return self._run(job, "Replay")

    def _run(self, job: Any, title: str) -> Worker:
        worker = Worker(job)
        worker.signals.succeeded.connect(lambda text: self._done(f"{title}: {text}"))
        worker.signals.failed.connect(
            lambda error: self.window.banner.error(error, f"{title} failed")
        )
        return start_kept(worker, self.workers)

    def _done(self, text: str) -> None:
        log.info("%s", text)
        self.window.banner.say(text)
        if self.window.services is not None:
            self.window.services.wake()  # deliver now, not at the next period
        self.window.refresh()
