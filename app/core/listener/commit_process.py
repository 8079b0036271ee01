"""The push committer's journal work in a child process (used by `meterbridge serve`).

One Python process serves the listener's event loop and the journal commit
on two threads that share one GIL: under load they take turns and the server
never uses more than one core (about 800 requests/s of 50 readings on the
2-core development machine). With `CommitProcess` the event-loop process
sends each group of parsed requests to a child process that owns the journal
writer and the register store, and answers every request only after the
child's reply: the child has committed (fsync) by then, so "200 only after
the journal commit" holds exactly as in-process. The two processes run on
two cores.

If the child dies, the requests of the group it held get a 500 (nothing
acknowledged is lost: an acknowledged request was committed) and a new child
is started for the next group. When the parent dies (SIGKILL), the child
reads end-of-file on its pipe and exits.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from app.core.journal.accept import JournalFullError
from app.core.listener.commit import PushCommitter, PushJob, PushOutcome
from app.core.sources.register_store import Derived

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0


class CommitProcessError(Exception):
    """The child process could not commit a group (it died or did not start)."""


class CommitProcess:
    """A child process that prepares and commits groups of push jobs, one group at a time.

    `commit` sends a group and returns; a reader thread takes the child's
    answers in order, sets each job's result or error and calls `finished`.
    While the child commits one group, every request arriving meanwhile
    gathers into the next: the child's cost per reading falls with the group's
    size (SQLite writes the index pages a group touches once), which measured
    more than keeping a second, smaller group waiting in the pipe (Readings-API
    JSON, 16 connections: 531 against 444 requests/s, journal 1.15 against
    1.22 ms CPU per request).
    """

    MAX_IN_FLIGHT = 1

    def __init__(
        self, journal_path: Path, registers_path: Path, *, max_bytes: int, retention_days: float
    ) -> None:
        self.args = (str(journal_path), str(registers_path), int(max_bytes), float(retention_days))
        self.process: Any = None
        self.conn: Connection | None = None
        self.finished: Callable[[list[PushJob]], None] = lambda _jobs: None
        self._in_flight: deque[list[PushJob]] = deque()
        self._cond = threading.Condition()
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        """Start the child and wait until its journal is open.

        Raises:
            CommitProcessError: the child did not start (its message says why).
        """
        context = multiprocessing.get_context("spawn")  # the same on Windows and POSIX
        parent, child = context.Pipe()
        process = context.Process(
            target=child_main, args=(child, *self.args), name="meterbridge-journal", daemon=True
        )
        process.start()
        child.close()
        if not parent.poll(START_TIMEOUT_S):
            process.kill()
            raise CommitProcessError("the journal process did not start in time")
        ready = parent.recv()
        if ready != "ready":
            process.kill()
            raise CommitProcessError(f"the journal process did not start: {ready}")
        self.process, self.conn = process, parent
        self._reader = threading.Thread(target=self._read_answers, name="journal-answers")
        self._reader.daemon = True
        self._reader.start()

    def commit(self, jobs: list[PushJob], raw_sources: frozenset[str]) -> None:
        """Send `jobs` to the child (waits while `MAX_IN_FLIGHT` groups are out).

        Their results arrive through `finished`; a child that cannot be reached
        fails them at once.
        """
        payload = [(job.device, job.columns, job.frame, job.hints) for job in jobs]
        with self._cond:
            while len(self._in_flight) >= self.MAX_IN_FLIGHT:
                self._cond.wait()
            try:
                if self.conn is None:
                    self.start()
                assert self.conn is not None
                self._in_flight.append(jobs)
                self.conn.send(("group", payload, raw_sources))
            except (OSError, CommitProcessError) as exc:
                if self._in_flight and self._in_flight[-1] is jobs:
                    self._in_flight.pop()
                self._fail([jobs], exc)

    def _read_answers(self) -> None:
        conn = self.conn
        while conn is not None:
            try:
                answers = conn.recv()
            except (EOFError, OSError) as exc:
                with self._cond:
                    lost, self._in_flight = list(self._in_flight), deque()
                    if self.conn is conn:
                        self._discard()
                    self._cond.notify_all()
                if lost:
                    self._fail(lost, exc)
                return
            with self._cond:
                jobs = self._in_flight.popleft()
                self._cond.notify_all()
            for job, (result, error) in zip(jobs, answers, strict=True):
                job.result, job.error = result, error
            self.finished(jobs)

    def _fail(self, groups: list[list[PushJob]], exc: BaseException) -> None:
        log.error("journal process failed (%s); a new one starts with the next group", exc)
        failure = CommitProcessError(f"the journal process stopped ({exc}); send again")
        for jobs in groups:
            for job in jobs:
                job.error = failure
            self.finished(jobs)

    def _discard(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.process is not None and self.process.is_alive():
            self.process.kill()
        self.conn = self.process = None

    def stop(self, timeout: float = 10.0) -> None:
        """Wait for the groups out, ask the child to exit; kill it if it does not."""
        with self._cond:
            self._cond.wait_for(lambda: not self._in_flight, timeout)
            conn, process = self.conn, self.process
            self.conn = self.process = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(None)
        if process is not None:
            process.join(timeout)
            if process.is_alive():
                process.kill()
        if conn is not None:
            conn.close()
        if self._reader is not None:
            self._reader.join(timeout)


def child_main(
    conn: Connection, journal_path: str, registers_path: str, max_bytes: int, retention: float
) -> None:
    """The child's loop: groups in, one answer per job out, until None or end-of-file.

    Ctrl-C reaches the child too (the terminal signals the whole process
    group): it is ignored here; the parent stops the child in order.
    """
    from app.core.journal.store import Journal
    from app.core.sources.register_store import RegisterStore

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    try:
        journal = Journal(Path(journal_path), max_bytes=max_bytes, retention_days=retention)
        registers = RegisterStore(Path(registers_path))
    except Exception as exc:  # the parent reports it and does not listen
        conn.send(f"{type(exc).__name__}: {exc}")
        return
    committer = PushCommitter(journal, registers)  # used synchronously: no thread started
    conn.send("ready")
    try:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break  # the parent is gone
            if message is None:
                break
            _, payload, raw_sources = message
            committer.raw_sources = _Fixed(raw_sources)
            jobs = [PushJob(device, columns=c, frame=f, hints=h) for device, c, f, h in payload]
            committer.commit_group(jobs)
            conn.send([_answer(job) for job in jobs])
    finally:
        journal.close()
        registers.close()


class _Fixed:
    """The parent's answer to "which sources go raw?" for one group."""

    def __init__(self, raw: frozenset[str]) -> None:
        self.raw = raw

    def __call__(self) -> frozenset[str]:
        return self.raw


def _answer(job: PushJob) -> tuple[PushOutcome | None, BaseException | None]:
    """What the parent needs of a finished job (no readings travel back)."""
    if job.error is not None:
        return None, _portable(job.error)
    if job.result is None:
        return None, CommitProcessError("the journal process gave no result")
    derived = job.result.derived
    summary = Derived(
        readings=None,
        registers_in=derived.registers_in,
        intervals=derived.intervals,
        resets=derived.resets,
        notes=list(derived.notes),
    )
    return PushOutcome(job.result.accepted, summary, job.result.requests), None


def _portable(error: BaseException) -> BaseException:
    """An exception that pickles and keeps what the listener tells apart (full → 503)."""
    if isinstance(error, JournalFullError):
        return JournalFullError(str(error))
    return CommitProcessError(f"{type(error).__name__}: {error}")
