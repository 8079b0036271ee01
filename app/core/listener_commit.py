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

from app.core.devices import Device
from app.core.journal import AcceptBatch
from app.core.register_store import Derived, RegisterStore
from connectors.base import conform
from connectors.push_common import PointColumns
from connectors.registers import is_register

log = logging.getLogger(__name__)


class ReadingSink(Protocol):
    """What the committer writes to (the journal)."""

    def accept(
        self,
        readings: pd.DataFrame,
        *,
        source: str,
        hints: Any = None,
        supersede: dict[tuple[str, str, int], str] | None = None,
    ) -> Any:
        """Store readings (and the mapping hints naming their targets) durably, then return.

        `supersede` names re-derived register intervals (key → why) that replace
        values already delivered without a decision.
        """
        ...

    def accept_many(self, batches: list[AcceptBatch]) -> list[Any]:
        """Store several sources' batches in one transaction; a result or exception each."""
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
    """Two threads in a pipeline: prepare (frame + registers), then journal commit.

    While the journal commits one group (SQLite releases the GIL), the next
    group's frames are built. Groups reach the journal in arrival order; a
    device's queued groups are joined into one `accept` call in that order.
    """

    def __init__(
        self,
        sink: ReadingSink,
        registers: RegisterStore,
        *,
        on_commit: Callable[[list[PushJob]], None] | None = None,
    ) -> None:
        self.sink = sink
        self.registers = registers
        self.on_commit = on_commit
        self.raw_sources: Callable[[], frozenset[str]] = frozenset  # register_modes.RegisterModes
        self.groups = 0
        self._incoming: list[PushJob] = []
        self._prepared: list[_Prepared] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._prepare_done = False
        self._threads = [
            threading.Thread(target=self._prepare_loop, name="push-prepare", daemon=True),
            threading.Thread(target=self._commit_loop, name="push-commit", daemon=True),
        ]

    def start(self) -> None:
        """Start the pipeline threads."""
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

    def submit(self, job: PushJob) -> PushJob:
        """Queue a job; wait on `job.done` for its result.

        Raises:
            RuntimeError: when the committer is stopping.
        """
        with self._cond:
            if self._stopping:
                raise RuntimeError("the listener is shutting down")
            self._incoming.append(job)
            self._cond.notify_all()
        return job

    def _prepare_loop(self) -> None:
        while True:
            with self._cond:
                # One group ahead at most: requests arriving while the journal commits
                # gather into the next group (fewer, larger frames and commits).
                while (not self._incoming or self._prepared) and not self._stopping:
                    self._cond.wait()
                group, self._incoming = self._incoming, []
                if not group:
                    self._prepare_done = True
                    self._cond.notify_all()
                    return
            prepared = [p for p in map(self._prepare, _by_device(group)) if p is not None]
            with self._cond:
                self._prepared.extend(prepared)
                self._cond.notify_all()

    def _prepare(self, jobs: list[PushJob]) -> _Prepared | None:
        device = jobs[0].device
        try:
            frame = _frame_of(jobs)
            raw = str(device.options.get("registers") or "difference") == "raw"
            if raw or not _may_hold_registers(jobs):
                derived = Derived(readings=frame)
            else:
                rule = device.options.get("reset_rule")
                derived = self.registers.derive(
                    frame, source=device.source, reset_rule=rule, raw_sources=self.raw_sources()
                )
        except BaseException as exc:  # every waiting request gets the failure, none hangs
            _finish(jobs, error=exc)
            return None
        return _Prepared(device, jobs, derived)

    def _commit_loop(self) -> None:
        while True:
            with self._cond:
                while not self._prepared and not self._prepare_done:
                    self._cond.wait()
                ready, self._prepared = self._prepared, []
                self._cond.notify_all()  # the prepare thread may build the next group
            if not ready:
                return
            self.groups += 1
            self._commit_devices(_by_device_prepared(ready))
            if self.on_commit is not None:
                self.on_commit([job for item in ready for job in item.jobs])

    def _commit_devices(self, per_device: list[list[_Prepared]]) -> None:
        """Every device's readings of the group in one journal transaction."""
        joined = [items[0].derived if len(items) == 1 else _joined(items) for items in per_device]
        batches: list[AcceptBatch] = []
        for items, derived in zip(per_device, joined, strict=True):
            hints = [hint for item in items for job in item.jobs for hint in job.hints]
            batch = AcceptBatch(derived.readings, items[0].device.source, hints or None)
            batch.supersede = derived.supersede or None
            batches.append(batch)
        try:
            outcomes = self.sink.accept_many(batches)
        except BaseException as exc:  # every waiting request gets the failure, none hangs
            outcomes = [exc] * len(batches)
        for items, derived, outcome in zip(per_device, joined, outcomes, strict=True):
            jobs = [job for item in items for job in item.jobs]
            if isinstance(outcome, BaseException):
                _finish(jobs, error=outcome)
            else:
                result = PushOutcome(accepted=outcome, derived=derived, requests=len(jobs))
                _finish(jobs, result=result)


def _finish(
    jobs: list[PushJob], *, result: PushOutcome | None = None, error: BaseException | None = None
) -> None:
    for job in jobs:
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


def _by_device_prepared(items: list[_Prepared]) -> list[list[_Prepared]]:
    groups: dict[str, list[_Prepared]] = {}
    for item in items:
        groups.setdefault(item.device.name, []).append(item)
    return list(groups.values())


def _joined(items: list[_Prepared]) -> Derived:
    """One device's prepared groups as one, in arrival order."""
    frames = [i.derived.readings for i in items if len(i.derived.readings)]
    readings = (
        conform(pd.concat(frames, ignore_index=True)) if frames else items[0].derived.readings
    )
    joined = Derived(readings=readings)
    for item in items:
        joined.registers_in += item.derived.registers_in
        joined.intervals += item.derived.intervals
        joined.resets += item.derived.resets
        joined.notes.extend(item.derived.notes)
        _drop_overridden(joined.supersede, item.derived)
        joined.supersede.update(item.derived.supersede)
    return joined


def _drop_overridden(supersede: dict[tuple[str, str, int], str], later: Derived) -> None:
    """Forget supersede marks of readings a later group brings without one (last wins)."""
    if not supersede or not len(later.readings):
        return
    frame = later.readings
    times = frame["time"].astype("int64").tolist()
    for key in zip(frame["source_id"].tolist(), frame["quantity"].tolist(), times, strict=True):
        if key not in later.supersede:
            supersede.pop(key, None)


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
