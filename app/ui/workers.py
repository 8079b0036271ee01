"""Run long work on QThreadPool and report back by signal (never on the GUI thread)."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.core.error_kinds import kind_of

log = logging.getLogger(__name__)

# A job gets (progress, cancelled) and returns its result.
Job = Callable[[Callable[[int, str], None], Callable[[], bool]], Any]


class WorkerSignals(QObject):
    """Signals of one worker; delivered on the GUI thread (queued connections)."""

    progressed = Signal(int, str)
    succeeded = Signal(object)
    failed = Signal(object)  # the exception: its type says what kind of failure (plain_errors)
    cancelled = Signal()
    finished = Signal()


class Worker(QRunnable):
    """A cancellable job on the global thread pool.

    The job is called with ``progress(count, message)`` and ``cancelled()``;
    an exception becomes `failed` with the exception itself (never a crash), so the
    GUI picks its plain sentence from its type (`app.ui.plain_errors`).
    """

    def __init__(self, job: Job, *, cancel_types: tuple[type[BaseException], ...] = ()) -> None:
        super().__init__()
        self.signals = WorkerSignals()
        self._job = job
        self._cancel = threading.Event()
        self._cancel_types = cancel_types
        self.setAutoDelete(False)

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        """Whether cancel was asked."""
        return self._cancel.is_set()

    def _throttled_progress(self) -> Callable[[int, str], None]:
        """A progress callback that signals at most every 50 ms (the GUI stays free)."""
        last = [0.0]

        def progress(count: int, message: str) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.05:
                last[0] = now
                self.signals.progressed.emit(count, message)

        return progress

    def run(self) -> None:
        """Run the job (on a pool thread)."""
        try:
            result = self._job(self._throttled_progress(), self._cancel.is_set)
        except self._cancel_types:
            self.signals.cancelled.emit()
        except Exception as exc:  # the user sees the message; the app goes on
            # A plain failure (bad input, no network, a refused key: an error of a known
            # kind) needs no traceback; a bug does (log only).
            plain = isinstance(exc, (ValueError, OSError)) or bool(kind_of(exc))
            log.warning("background job failed: %s", exc, exc_info=not plain)
            # Its frames stay here: the GUI thread gets the error, not the job's locals.
            self.signals.failed.emit(exc.with_traceback(None))
        else:
            if self._cancel.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.succeeded.emit(result)
        self.signals.finished.emit()


GUI_SWITCH_INTERVAL_S = 0.002


def start(worker: Worker, pool: QThreadPool | None = None) -> Worker:
    """Start `worker` on `pool` (the global pool by default) and return it."""
    # A busy worker keeps the GIL for up to the switch interval (5 ms by default)
    # each time the GUI thread asks for it; a shorter one keeps repaints prompt.
    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker


def start_kept(worker: Worker, running: list[Worker]) -> Worker:
    """Start `worker`, holding it in `running` until it finishes (its signals stay alive)."""
    worker.signals.finished.connect(lambda: running.remove(worker))
    running.append(worker)
    return start(worker)
