"""“Pull a range…” of a Verdigris source: a chosen span pulled now, with progress and Cancel.

For consultants who need a past month again. The pull is the scheduled job's own
(its circuits, interval, addresses and secret), for [from, to) whole; readings go
through the journal and are delivered as every pull's are. Cancel stops after the
batch in hand: what was pulled before is kept (and delivered).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QFormLayout,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from app.ui.buttons import ButtonRow, Role, Standard
from app.ui.plain_errors import DetailsLine
from app.ui.workers import Worker, start

log = logging.getLogger(__name__)


class PullCancelled(Exception):
    """The user pressed Cancel."""


class _Cancellable:
    """The job's submitter, stopping at the next batch once `cancelled()` says so."""

    def __init__(self, submitter: Any, cancelled: Callable[[], bool]) -> None:
        self._submitter, self._cancelled = submitter, cancelled

    def __call__(self, *args: Any) -> Any:
        if self._cancelled():
            raise PullCancelled
        return self._submitter(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._submitter, name)


def pull_range(
    paths: Any, job: str, since: datetime, until: datetime,
    progress: Callable[[int, str], None], cancelled: Callable[[], bool],
) -> str:  # fmt: skip
    """Pull [since, until) for the Verdigris job `job`; one sentence on what came."""
    from app.core.pulls.jobs import JobStore
    from app.core.pulls.runner import Destination, open_submitter, run_verdigris
    from app.core.pulls.verdigris_auth import build_auth
    from app.core.pulls.verdigris_pull import VerdigrisConfig
    from app.core.settings import load_settings

    config = VerdigrisConfig.from_dict(
        JobStore(Path(paths.data_dir) / "jobs.sqlite3").get(job).config
    )
    settings = load_settings(paths.settings_file)
    auth = build_auth(config.client_id, paths.data_dir, auth_url=config.auth_url,
                      audience=config.audience, api_url=config.api_url)  # fmt: skip
    with open_submitter(paths, settings, Destination(), "meterbridge pull range", log.info,
                        source=f"pull:{job}") as submitter:  # fmt: skip
        submitter.progress = lambda r: progress(r.read, f"{r.read:,} readings so far…")
        report = run_verdigris(config, paths, _Cancellable(submitter, cancelled),
                               since=since, until=until, auth=auth)  # fmt: skip
    days = f"{since:%d %b %Y} to {until - timedelta(days=1):%d %b %Y}"
    tokens = tokens_used(auth.token_requests)
    return (f"Pulled {report.readings:,} readings ({days}) in {report.requests} Verdigris "
            f"request(s); they are delivered like every pull. {tokens}")  # fmt: skip


def tokens_used(count: int) -> str:
    """What the pull knows of the token quota: the token requests it made, against the limit."""
    from app.core.pulls.verdigris_auth import TOKEN_REQUESTS_PER_HOUR as LIMIT

    made = "no new token (the saved one was valid)" if count == 0 else f"{count} new token(s)"
    return (f"This pull asked Verdigris for {made}; Verdigris allows {LIMIT} token requests an "
            "hour and does not report how many are left.")  # fmt: skip


def token_note(context: Any, job: str) -> str:
    """Whether the pull needs one of Verdigris' token requests (20 allowed an hour) or none."""
    from app.core.pulls.jobs import JobStore
    from app.core.pulls.verdigris_auth import TOKEN_REQUESTS_PER_HOUR as LIMIT
    from app.core.pulls.verdigris_auth import default_cache
    from app.core.pulls.verdigris_pull import VerdigrisConfig

    try:
        config = VerdigrisConfig.from_dict(JobStore(context.jobs_file).get(job).config)
        key = f"{config.client_id}@{config.auth_url}#{config.audience}"
        token = default_cache(context.paths.data_dir, context.secrets).load(key)
    except Exception:  # no token known: say what a pull costs at most
        log.debug("Verdigris token cache unreadable", exc_info=True)
        token = None
    if token is not None and token.expires_at > datetime.now(UTC) + timedelta(minutes=5):
        until = token.expires_at.astimezone().strftime("%H:%M")
        return f"The saved Verdigris token is valid until {until}: this pull asks for no new one."
    return (f"This pull asks Verdigris for one token (Verdigris allows {LIMIT} token requests an "
            "hour and does not report how many are left).")  # fmt: skip


class PullRangeDialog(QDialog):
    """From, To, Pull; progress while it runs, Cancel to stop."""

    def __init__(self, context: Any, job: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.job = context, job
        self.worker: Worker | None = None
        self.setWindowTitle(f"meterbridge — pull a range of {job}")
        self.setAccessibleName("Pull a range")
        today = QDate.currentDate()
        self.since = self._date(today.addDays(-7), "From (first day)")
        self.until = self._date(today, "To (last day, included)")
        form = QFormLayout()
        form.addRow("&From:", self.since)
        form.addRow("&To:", self.until)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Pull progress")
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.status = DetailsLine("Pull status")  # a failure's technical words behind Details…
        self.status.setText(token_note(context, job))
        self.buttons = ButtonRow()
        self.pull_button = self.buttons.add("&Pull", Role.AcceptRole, self.start)
        self.cancel_button = self.buttons.add_standard(Standard.Cancel, self.stop_or_close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def _date(self, value: QDate, name: str) -> QDateEdit:
        edit = QDateEdit(value)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("d MMM yyyy")
        edit.setAccessibleName(name)
        return edit

    def span(self) -> tuple[datetime, datetime]:
        """[first day 00:00, day after the last 00:00) in UTC."""
        first = self.since.date().toPython()
        last = self.until.date().toPython()
        return (datetime.combine(first, time(), UTC),
                datetime.combine(last + timedelta(days=1), time(), UTC))  # fmt: skip

    def start(self) -> Worker | None:
        """Pull the chosen days on a worker."""
        since, until = self.span()
        if since >= until:
            self.status.setText("The first day must come before the last one.")
            return None
        paths, job = self.context.paths, self.job
        worker = Worker(lambda p, c: pull_range(paths, job, since, until, p, c),
                        cancel_types=(PullCancelled,))  # fmt: skip
        worker.signals.progressed.connect(lambda _n, text: self.status.setText(text))
        worker.signals.succeeded.connect(self.status.setText)
        worker.signals.failed.connect(lambda error: self.status.error(error, "Not pulled"))
        worker.signals.cancelled.connect(
            lambda: self.status.setText("Cancelled: what was pulled before is kept and delivered.")
        )
        worker.signals.finished.connect(self._on_finished)
        self.pull_button.setEnabled(False)
        self.progress.show()
        self.status.setText("Asking Verdigris…")
        self.worker = start(worker)
        return worker

    def stop_or_close(self) -> None:
        """Cancel a running pull; else close."""
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("Stopping after the batch in hand…")
        else:
            self.reject()

    def _on_finished(self) -> None:
        self.worker = None
        self.progress.hide()
        self.pull_button.setEnabled(True)
        parent = self.parent()
        if parent is not None and getattr(parent, "services", None) is not None:
            parent.services.wake()  # deliver what the pull journaled
