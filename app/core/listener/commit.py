"""Group commit for pushes: many requests, one DataFrame, one journal commit.

The event loop `submit`s what each device's reader parsed and waits. A
prepare thread takes everything queued, builds one frame per device and
derives register intervals (`RegisterStore`); a commit thread hands every
device's readings to `Journal.accept_many` (one transaction, one fsync). Every waiting
request is answered only after its commit returned. While one commit runs,
new requests queue up and go together in the next, so the fsync cost is
shared as the load grows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from app.core.journal.store import AcceptBatch
from app.core.sources.devices import Device
from app.core.sources.register_store import Derived, RegisterStore
from connectors.base import conform
from connectors.push.common import PointColumns
from connectors.push.registers import is_register

log = logging.getLogger(__name__)

MAX_HINTS_KEPT = 100_000  # remembered (source, hint) pairs; all forgotten beyond


class ReadingSink(Protocol):
    """What the committer writes to (the journal)."""

    def accept_many(self, batches: list[AcceptBatch]) -> list[Any]:
        """Store several sources' batches in one transaction; a result or exception each.

        A batch's `supersede` names re-derived register intervals (key → why) that
        replace values already delivered without a decision.
        """
        ...


class RemoteCommitter(Protocol):
    """Prepares and commits groups elsewhere (a child process), setting result or error."""

    def start(self) -> None:
        """Get ready (start the child)."""
        ...

    finished: Callable[[list[PushJob]], None]  # called with each group once answered

    def commit(self, jobs: list[PushJob], raw_sources: frozenset[str]) -> None:
        """Send `jobs` off; their `result` or `error` is set before `finished(jobs)`."""
        ...

    def stop(self) -> None:
        """Stop (the child closes its stores)."""
        ...


@dataclass
class PushJob:
    """One request's readings waiting for the commit."""

    device: Device
    columns: PointColumns | None = None
    frame: pd.DataFrame | None = None
    hints: list[Any] = field(default_factory=list)  # a Readings-API body's mapping_hint
    done: threading.Event = field(default_factory=threading.Event)
    result: PushOutcome | None = None
    error: BaseException | None = None
    notify: Callable[[], None] | None = None  # called (from the commit thread) when done

    @property
    def count(self) -> int:
        """Readings this request brought."""
        if self.columns is not None:
            return len(self.columns)
        return 0 if self.frame is None else len(self.frame)


@dataclass
class PushOutcome:
    """What the commit of a group did with one device's readings."""

    accepted: Any
    derived: Derived
    requests: int


@dataclass
class _Prepared:
    """One device's jobs of a group, with readings ready for the journal."""

    device: Device
    jobs: list[PushJob]
    derived: Derived


class PushCommitter:
    """One thread: take every queued request, build one frame per device, commit them all.

    Requests arriving while a group commits queue up and form the next group,
    so the fsync is shared as the load grows. Groups reach the journal in
    arrival order; a device's requests of a group are one `AcceptBatch`.
    (One thread, not a prepare/commit pipeline: under the GIL a second Python
    thread bought no parallelism and cost hand-offs with the event loop.)
    """

    def __init__(
        self,
        sink: ReadingSink,
        registers: RegisterStore,
        *,
        on_commit: Callable[[list[PushJob]], None] | None = None,
        remote: RemoteCommitter | None = None,
    ) -> None:
        self.sink = sink
        self.registers = registers
        self.on_commit = on_commit
        self.remote = remote  # commits in a child process (`commit_process.CommitProcess`)
        self.raw_sources: Callable[[], frozenset[str]] = frozenset  # register_modes.RegisterModes
        self.groups = 0
        self._hints_kept: set[tuple[str, Any]] = set()  # (source, hint) already in the journal
        self._incoming: list[PushJob] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._threads = [threading.Thread(target=self._run, name="push-commit", daemon=True)]

    def start(self) -> None:
        """Start the commit thread (and the child process, when commits are remote)."""
        if self.remote is not None:
            self.remote.finished = self._remote_done
            self.remote.start()
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)
        if self.remote is not None:
            self.remote.stop()

    def submit(self, job: PushJob) -> PushJob:
        """Queue a job; wait on `job.done` for its result.

        Raises:
            RuntimeError: when the committer is stopping.
        """
        with self._cond:
            if self._stopping:
                raise RuntimeError("the listener is shutting down")
            self._incoming.append(job)
            if len(self._incoming) == 1:
                self._cond.notify()
        return job

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._incoming and not self._stopping:
                    self._cond.wait()
                group, self._incoming = self._incoming, []
            if not group:
                return  # stopping, and everything queued was committed
            self.groups += 1
            if self.remote is None:
                committed = self.commit_group(group)
                if self.on_commit is not None:
                    self.on_commit(committed)
            else:
                self.remote.commit(group, self.raw_sources())  # answered in _remote_done

    def _remote_done(self, group: list[PushJob]) -> None:
        _finish(group)
        if self.on_commit is not None:
            self.on_commit([job for job in group if job.error is None])

    def commit_group(self, group: list[PushJob]) -> list[PushJob]:
        """Prepare and commit one group here; finish every job; return the committed ones."""
        prepared = [p for p in map(self._prepare, _by_device(group)) if p is not None]
        if prepared:
            self._commit_devices(prepared)
        return [job for item in prepared for job in item.jobs if job.error is None]

    def _prepare(self, jobs: list[PushJob]) -> _Prepared | None:
        device = jobs[0].device
        try:
            raw = str(device.options.get("registers") or "difference") == "raw"
            if raw or not _may_hold_registers(jobs):
                # Nothing to difference: the journal takes the readers' columns as they
                # are (a DataFrame round trip cost more than the SQL for small batches).
                derived = Derived(readings=_columns_of(jobs) or _frame_of(jobs))
            else:
                rule = device.options.get("reset_rule")
                derived = self.registers.derive(
                    _frame_of(jobs),
                    source=device.source,
                    reset_rule=rule,
                    raw_sources=self.raw_sources(),
                )
        except BaseException as exc:  # every waiting request gets the failure, none hangs
            _finish(jobs, error=exc)
            return None
        return _Prepared(device, jobs, derived)

    def _commit_devices(self, prepared: list[_Prepared]) -> None:
        """Every device's readings of the group in one journal transaction."""
        batches: list[AcceptBatch] = []
        new_hints: list[set[tuple[str, Any]]] = []
        for item in prepared:
            hints = self._new_hints(item.device.source, [h for j in item.jobs for h in j.hints])
            new_hints.append(set(hints))
            kept = list(hints.values()) or None
            batch = AcceptBatch(item.derived.readings, item.device.source, kept)
            batch.supersede = item.derived.supersede or None
            batches.append(batch)
        try:
            outcomes = self.sink.accept_many(batches)
        except BaseException as exc:  # every waiting request gets the failure, none hangs
            outcomes = [exc] * len(batches)
        for item, outcome, hinted in zip(prepared, outcomes, new_hints, strict=True):
            if isinstance(outcome, BaseException):
                _finish(item.jobs, error=outcome)
            else:
                self._hints_kept |= hinted
                done = PushOutcome(accepted=outcome, derived=item.derived, requests=len(item.jobs))
                _finish(item.jobs, result=done)

    def _new_hints(self, source: str, hints: list[Any]) -> dict[tuple[str, Any], Any]:
        """The hints not yet committed for `source`, once each (key → hint).

        A Readings-API device names the same channels in every request and the
        journal keeps a hint until it changes, so only new or changed ones go in.
        """
        if len(self._hints_kept) > MAX_HINTS_KEPT:
            self._hints_kept.clear()
        new_hints: dict[tuple[str, Any], Any] = {}
        for hint in hints:
            key = (source, _hint_key(hint))
            if key not in self._hints_kept:
                new_hints.setdefault(key, hint)
        return new_hints


def _hint_key(hint: Any) -> Any:
    """What tells hints apart: their items (hashable, no text made), else their repr.

    In the dict's own order, not sorted: a reader builds its hints in one order,
    and two equal hints told apart by their order are only stored twice (an upsert).
    """
    if isinstance(hint, dict):
        key = tuple(hint.items())
        try:
            hash(key)
            return key
        except TypeError:  # an unhashable value: as text
            return repr(key)
    return repr(hint)


def _finish(
    jobs: list[PushJob],
    *,
    result: PushOutcome | None = None,
    error: BaseException | None = None,
) -> None:
    """Mark jobs done (with `result` or `error` when given) and wake their requests."""
    for job in jobs:
        if result is not None or error is not None:
            job.result, job.error = result, error
        job.done.set()
        if job.notify is not None:
            job.notify()


def _may_hold_registers(jobs: list[PushJob]) -> bool:
    """False when no job's readings are register values (cheap check on the columns)."""
    for job in jobs:
        if job.columns is None or any(is_register(q) for q in set(job.columns.quantity)):
            return True
    return False


def _by_device(jobs: list[PushJob]) -> list[list[PushJob]]:
    groups: dict[str, list[PushJob]] = {}
    for job in jobs:
        groups.setdefault(job.device.name, []).append(job)
    return list(groups.values())


def _columns_of(jobs: list[PushJob]) -> PointColumns | None:
    """The jobs' readings as one `PointColumns`, or None when a job brought a frame."""
    if any(job.columns is None for job in jobs):
        return None
    columns = PointColumns()
    for job in jobs:
        assert job.columns is not None
        columns.extend(job.columns)
    return columns


def _frame_of(jobs: list[PushJob]) -> pd.DataFrame:
    """One frame from the jobs' columns (built once) and frames."""
    columns = PointColumns()
    frames: list[pd.DataFrame] = []
    for job in jobs:
        if job.columns is not None:
            columns.extend(job.columns)
        elif job.frame is not None:
            frames.append(job.frame)
    if len(columns) or not frames:
        frames.insert(0, columns.to_frame())
    full = [f for f in frames if len(f)]
    if len(full) <= 1:
        return full[0] if full else frames[0]
    return conform(pd.concat(full, ignore_index=True))
