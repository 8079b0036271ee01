"""What the dashboard does to a source: Edit, Remove (confirmed), Run now, Pause / Resume.

Run now goes to the background services' scheduler thread (or, without it, a
worker): the GUI thread never runs a pull. Its outcome comes back by a queued
signal, shows in the row (``running now…`` until then) and in the banner; the
row's last status and message come from the job store at the next refresh.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QPushButton

from app.core.error_kinds import kind_of
from app.core.pulls.jobs import JobOutcome, JobStore
from app.core.sources.records import find_source
from app.core.sources.removal import JOURNAL_KEPT, Removal, plan_removal, remove_source
from app.ui.window.host import WindowHost
from app.ui.workers import Worker, start_kept

log = logging.getLogger(__name__)


class JobReports(QObject):
    """Carries a job's outcome from the scheduler thread to the GUI thread."""

    finished = Signal(str, object)  # job name, JobOutcome


class SourceActions:
    """The dashboard's source commands, wired to the sources panel's signals."""

    def __init__(self, window: WindowHost) -> None:
        self.window = window
        self.workers: list[Worker] = []
        self.box: QMessageBox | None = None
        self.reports = JobReports()
        self.reports.finished.connect(self._on_job_finished, Qt.ConnectionType.QueuedConnection)
        panel = window.sources
        panel.edit_requested.connect(self.edit)
        panel.remove_requested.connect(self.ask_removal)
        panel.run_requested.connect(self.run_now)
        panel.pause_requested.connect(self.set_paused)
        panel.range_requested.connect(self.pull_range)

    @property
    def paths(self) -> Any:
        """The meterbridge home."""
        return self.window.context.paths

    # --- edit ------------------------------------------------------------------------
    def edit(self, row: str) -> Any:
        """Open the source's wizard filled with its saved settings (None: nothing to edit)."""
        from app.core.sources.removal import source_name_of_row

        name = source_name_of_row(row)
        setup = find_source(name, self.paths)
        if setup is None:
            self.window.banner.say(
                f"“{name}” was set up with the command line (meterbridge jobs / meterbridge "
                "device): change it there, or remove it here and add it again with the wizard.",
                error=True,
            )
            return None
        return self.window.actions_.open_wizard(setup.kind, editing=setup)

    # --- remove ------------------------------------------------------------------------
    def ask_removal(self, row: str) -> Worker:
        """Find what removing the source takes (on a worker), then ask, naming it all."""
        paths, secrets = self.paths, self.window.context.secrets
        worker = Worker(lambda _p, _c: plan_removal(row, paths, secrets))
        worker.signals.succeeded.connect(self.confirm_removal)
        worker.signals.failed.connect(
            lambda error: self.window.banner.error(error, "The source could not be removed")
        )
        return self._keep(worker)

    def confirm_removal(self, plan: Removal) -> QMessageBox | None:
        """The confirmation: what goes, and that readings stay (Cancel is the default)."""
        if plan.empty:
            self.window.banner.say(
                f"“{plan.name}” only appears in the journal (readings sent from a file): "
                "there is no configured source to remove.",
                error=True,
            )
            return None
        box = QMessageBox(QMessageBox.Icon.Warning, "Remove source",
                          f"Remove the source “{plan.name}”?", parent=self.window)  # fmt: skip
        box.setAccessibleName("Remove source")
        items = "".join(f"<li>{line}</li>" for line in plan.lines())
        box.setInformativeText(f"This removes:<ul>{items}</ul>{JOURNAL_KEPT}")
        remove = box.addButton("&Remove", QMessageBox.ButtonRole.DestructiveRole)
        remove.setAccessibleName("Remove")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.finished.connect(lambda _r: self._on_box_finished(box, remove, plan))
        self.box = box
        box.open()
        return box

    def _on_box_finished(self, box: QMessageBox, remove: QPushButton, plan: Removal) -> None:
        self.box = None
        self.window.sources.table.setFocus()  # keyboard users go on where they were
        if box.clickedButton() is not remove:
            return
        paths, secrets = self.paths, self.window.context.secrets

        def job(_p: Any, _c: Any) -> str:
            removed = remove_source(plan.name, paths, secrets)
            return f"Removed “{removed.name}”. {JOURNAL_KEPT}"

        self._run(job)

    # --- jobs --------------------------------------------------------------------------
    def run_now(self, name: str) -> None:
        """Run the job now, off the GUI thread; the row says so until the outcome is in."""
        self.window.sources.mark_running(name, True)
        services = self.window.services
        asked = getattr(services, "run_job_now", None)
        if asked is not None and asked(name, self.reports.finished.emit):
            return  # the scheduler thread runs it and reports back
        from app.core.pulls.runner import scheduler_for

        paths, settings = self.paths, self.window.context.settings
        worker = Worker(lambda _p, _c: scheduler_for(paths, settings).run_now(name))
        worker.signals.succeeded.connect(lambda outcome: self._on_job_finished(name, outcome))
        worker.signals.failed.connect(
            lambda error: self._on_job_finished(name, outcome_of_error(error))
        )
        self._keep(worker)

    def _on_job_finished(self, name: str, outcome: JobOutcome) -> None:
        self.window.sources.mark_running(name, False)
        text = f"{name}: {outcome.status} — {outcome.message}"
        log.info("run now %s", text)
        if outcome.ok:
            self.window.banner.say(text)
        else:
            self.window.banner.error(outcome.message, f"“{name}” {outcome.status}", outcome.kind)
        services = self.window.services
        if services is not None:
            services.wake()  # deliver what the run journaled
        self.window.refresh()

    def pull_range(self, name: str) -> Any:
        """The “Pull a range…” dialog of a Verdigris source."""
        from app.ui.window.pull_range import PullRangeDialog

        dialog = PullRangeDialog(self.window.context, name, parent=self.window)  # type: ignore[arg-type]
        dialog.show()
        self.range_dialog = dialog
        return dialog

    def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume the job (saved in the job store)."""
        jobs = self.window.context.jobs_file

        def job(_p: Any, _c: Any) -> str:
            JobStore(jobs).set_paused(name, paused)
            if paused:
                return f"“{name}” paused: it does not run on schedule until resumed."
            return f"“{name}” resumed: it runs on schedule again (a missed run at once)."

        worker = self._run(job)
        services = self.window.services
        if not paused and services is not None and hasattr(services, "wake_schedule"):
            worker.signals.succeeded.connect(lambda _t: services.wake_schedule())

    # --- plumbing ----------------------------------------------------------------------
    def _run(self, job: Any) -> Worker:
        worker = Worker(job)
        worker.signals.succeeded.connect(self._done)
        worker.signals.failed.connect(lambda error: self.window.banner.error(error))
        return self._keep(worker)

    def _keep(self, worker: Worker) -> Worker:
        return start_kept(worker, self.workers)

    def _done(self, text: str) -> None:
        log.info("%s", text)
        self.window.banner.say(text)
        self.window.refresh()


def outcome_of_error(error: BaseException) -> JobOutcome:
    """The outcome of a run that raised, its kind kept for the banner's plain sentence."""
    return JobOutcome(ok=False, message=str(error) or type(error).__name__, kind=kind_of(error))
