"""The durable journal: every accepted reading is on disk before anything else.

`Journal.accept` commits a batch of readings (fsync, WAL + synchronous=FULL)
before it returns, so a push listener answers 200 only for readings that
survive a crash or power cut. Many threads may call it at once: concurrent
callers are committed together in one transaction (group commit), so the
cost of the fsync is shared and small batches from many devices stay fast.

The journal is bounded (`max_bytes`): when full, `accept` raises
`JournalFullError` and stores nothing of that batch; nothing is dropped.
Confirmed readings are pruned after `retention_days`; batch receipts are kept.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from app.core.journal import all_new
from app.core.journal.accept import (
    BYTES_PER_READING,
    STAGING_ERRORS,
    AcceptResult,
    JournalFullError,
    Staged,
    settle_staged,
    stage,
)
from app.core.journal.db import JournalError, now
from app.core.journal.finite import finite_readings
from app.core.journal.hints import hint_dicts, load_hints, store_hints
from app.core.journal.queue import JournalQueue
from app.core.journal.views import SourceStatus
from app.core.mapping import MappingRow
from app.core.settings.journal import DEFAULT_MAX_BYTES, DEFAULT_RETENTION_DAYS, JournalSettings
from connectors.push.common import PointColumns

log = logging.getLogger(__name__)

__all__ = [
    "AcceptBatch",
    "AcceptResult",
    "Journal",
    "JournalError",
    "JournalFullError",
    "JournalSettings",
    "SourceStatus",
]


@dataclass
class _Request:
    """One caller's batch waiting in the group-commit queue."""

    frame: pd.DataFrame | PointColumns
    source: str
    hints: list[dict[str, Any]] = field(default_factory=list)
    supersede: Mapping[tuple[str, str, int], str] | None = None
    done: threading.Event = field(default_factory=threading.Event)
    result: AcceptResult | None = None
    error: BaseException | None = None
    not_finite: int = 0

    def __post_init__(self) -> None:
        """Refuse NaN/±inf values here, in the caller's thread: they are never journaled."""
        try:
            self.frame, problems = finite_readings(self.frame)
        except (TypeError, ValueError, KeyError, AttributeError):
            return  # malformed: staging names the problem to this caller
        self.not_finite = len(problems)
        for problem in problems[:20]:
            log.warning("%s: %s", self.source, problem.describe())
        if len(problems) > 20:
            log.warning("%s: %d more values that are not finite", self.source, len(problems) - 20)


@dataclass
class AcceptBatch:
    """One source's readings for `Journal.accept_many` (the arguments of `accept`)."""

    readings: pd.DataFrame | PointColumns  # a push reader's columns skip pandas
    source: str
    hints: Iterable[Any] | None = None
    supersede: Mapping[tuple[str, str, int], str] | None = None


class Journal(JournalQueue):
    """The SQLite journal of accepted readings, their receipts and dead letters."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        retention_days: float = DEFAULT_RETENTION_DAYS,
    ) -> None:
        super().__init__(path)
        self.max_bytes = max_bytes
        self.retention_days = retention_days
        self._queue: list[_Request] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()
        # One delivery run at a time per journal object (the GUI, the scheduler and
        # `send` may share one); a second run returns at once.
        self.delivery_lock = threading.Lock()
        self._pruned_at = -float("inf")

    @classmethod
    def from_settings(cls, path: Path, settings: JournalSettings) -> Journal:
        """A journal with the bound and retention of `settings`."""
        return cls(path, max_bytes=settings.max_bytes, retention_days=settings.retention_days)

    def accept(
        self,
        readings: pd.DataFrame | PointColumns,
        *,
        source: str,
        hints: Iterable[Any] | None = None,
        supersede: Mapping[tuple[str, str, int], str] | None = None,
    ) -> AcceptResult:
        """Journal readings durably; returns what happened to them.

        Safe from many threads: batches queued while another caller commits are
        committed together in the next transaction (group commit).

        Args:
            readings: a frame with the reading schema of `connectors.base`.
            source: the name of the source (file, device, feed) they came from.
            hints: EnergyCAP identities the source named for its readings
                (`MappingRow`s or a connector's `mapping_hint` dicts), committed in
                the same transaction and applied at delivery to source ids the
                user's mapping does not name.

        Raises:
            JournalFullError: the journal reached `max_bytes`; nothing was stored.
            ValueError: the frame does not have the reading schema.
        """
        request = _Request(readings, source, hint_dicts(hints), supersede)
        with self._queue_lock:
            self._queue.append(request)
        with self._leader:
            if not request.done.is_set():
                self._commit_queued()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def accept_many(self, batches: list[AcceptBatch]) -> list[AcceptResult | BaseException]:
        """Journal several sources' batches in one transaction (one fsync).

        What `accept` does for each batch, from one thread: the listener's
        commit thread hands every device's readings of a group at once instead
        of one thread per device. A batch that cannot be stored (malformed,
        journal full) gets its exception in the list; the others are stored.
        """
        requests = [
            _Request(b.readings, b.source, hint_dicts(b.hints), b.supersede) for b in batches
        ]
        with self._queue_lock:
            self._queue.extend(requests)
        with self._leader:
            if not all(r.done.is_set() for r in requests):
                self._commit_queued()
        for request in requests:
            request.done.wait()
        return [r.error if r.error is not None else r.result or AcceptResult() for r in requests]

    def _commit_queued(self) -> None:
        """Take every queued request and commit them in one transaction."""
        with self._queue_lock:
            group, self._queue = self._queue, []
        try:
            self._commit_group(group)
        except Exception as exc:  # the commit failed: nobody's readings are stored
            failure = JournalError(f"{self.path}: readings could not be journaled ({exc})")
            for request in group:
                request.result, request.error = None, request.error or failure
        finally:
            for request in group:
                request.done.set()

    def _commit_group(self, group: list[_Request]) -> None:
        """Stage every request of the group, then classify and store them in one pass."""
        with self.transaction() as conn:
            used = _used_bytes(conn)
            if self._all_new(conn, group, used):
                return
            conn.execute("DELETE FROM incoming")
            staged: list[tuple[int, _Request]] = []
            counts: dict[int, Staged] = {}
            for req, request in enumerate(group):
                if used + len(request.frame) * BYTES_PER_READING > self.max_bytes:
                    request.error = self._full_error(used, len(request.frame))
                    continue
                try:
                    done = stage(conn, req, request.frame, request.source, request.supersede)
                    if request.hints:
                        store_hints(conn, request.source, request.hints, now())
                except STAGING_ERRORS as exc:
                    request.error = exc  # a malformed request fails its own caller only
                    continue
                used += done.rows * BYTES_PER_READING
                counts[req] = done
                staged.append((req, request))
            results = settle_staged(conn, counts)
        for req, request in staged:
            request.result = results.get(req, AcceptResult())
            request.result.not_finite += request.not_finite

    def _all_new(self, conn: sqlite3.Connection, group: list[_Request], used: int) -> bool:
        """Store the group by the fast path when all of it is new (see `journal_fresh`)."""
        total = sum(len(r.frame) for r in group)
        if used + total * BYTES_PER_READING > self.max_bytes:
            return False
        if not all_new.eligible([(r.source, r.frame, r.supersede) for r in group]):
            return False
        try:
            results = all_new.insert_all_new(conn, [(r.source, r.frame) for r in group])
        except STAGING_ERRORS:
            return False  # the general path fails only the malformed request
        if results is None:
            return False
        for request, result in zip(group, results, strict=True):
            request.result = result
            result.not_finite += request.not_finite
            if request.hints:
                store_hints(conn, request.source, request.hints, now())
        return True

    def _full_error(self, used: int, incoming: int) -> JournalFullError:
        pending = self.counts()["pending"]
        return JournalFullError(
            f"the journal {self.path} is full: {used / 1e6:.1f} MB used of its "
            f"{self.max_bytes / 1e6:.1f} MB bound ({pending} readings wait for delivery); "
            f"none of these {incoming} readings was stored. Run `meterbridge deliver` (or fix "
            "the EnergyCAP connection) so delivered readings can be pruned, or raise "
            "journal.max_bytes in the settings."
        )

    def hints_for(self, sources: Iterable[str]) -> dict[str, list[MappingRow]]:
        """The mapping hints kept for these sources (only sources that have some)."""
        with self.reader() as conn:
            return load_hints(conn, sources)

    def prune_delivered(self, every_s: float = 3600.0) -> int:
        """Prune confirmed readings older than the retention (at most once per `every_s`)."""
        if time.monotonic() - self._pruned_at < every_s:
            return 0
        self._pruned_at = time.monotonic()
        return self.prune(self.retention_days)


def _used_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of the file in use, read on the writer connection (no extra connection)."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)
