"""Group commit for pushes: many requests, one DataFrame, one journal commit.

Handler threads `submit` what their device's reader parsed and wait. One
committer thread takes everything queued, builds one frame per device,
derives register intervals (`RegisterStore`), and calls `Journal.accept`
once per device; every waiting request is answered only after that commit
returned. While one commit runs, new requests queue up and go together in
the next, so the fsync cost is shared as the load grows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from app.core.devices import Device
from app.core.register_store import Derived, RegisterStore
from connectors.base import conform
from connectors.push_common import PointColumns

log = logging.getLogger(__name__)


class ReadingSink(Protocol):
    """What the committer writes to (the journal)."""

    def accept(self, readings: pd.DataFrame, *, source: str) -> Any:
        """Store readings durably before returning."""
        ...


@dataclass
class PushJob:
    """One request's readings waiting for the commit."""

    device: Device
    columns: PointColumns | None = None
    frame: pd.DataFrame | None = None
    done: threading.Event = field(default_factory=threading.Event)
    result: PushOutcome | None = None
    error: BaseException | None = None

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


class PushCommitter:
    """The thread that commits queued pushes in groups."""

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
        self.groups = 0
        self._queue: list[PushJob] = []
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="push-commit", daemon=True)

    def start(self) -> None:
        """Start the committer thread."""
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def submit(self, job: PushJob) -> PushJob:
        """Queue a job; wait on `job.done` for its result.

        Raises:
            RuntimeError: when the committer is stopping.
        """
        with self._cond:
            if self._stopping:
                raise RuntimeError("the listener is shutting down")
            self._queue.append(job)
            self._cond.notify()
        return job

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                group, self._queue = self._queue, []
                stopping = self._stopping
            if group:
                self._commit(group)
            if stopping and not group:
                return

    def _commit(self, group: list[PushJob]) -> None:
        self.groups += 1
        by_device: dict[str, list[PushJob]] = {}
        for job in group:
            by_device.setdefault(job.device.name, []).append(job)
        for jobs in by_device.values():
            try:
                outcome = self._commit_device(jobs)
            except BaseException as exc:  # every waiting request gets the failure, none hangs
                for job in jobs:
                    job.error = exc
            else:
                for job in jobs:
                    job.result = outcome
            finally:
                for job in jobs:
                    job.done.set()
        if self.on_commit is not None:
            self.on_commit(group)

    def _commit_device(self, jobs: list[PushJob]) -> PushOutcome:
        device = jobs[0].device
        frame = _frame_of(jobs)
        raw = str(device.options.get("registers") or "difference") == "raw"
        derived = self.registers.derive(frame, source=device.source, raw=raw)
        accepted = self.sink.accept(derived.readings, source=device.source)
        return PushOutcome(accepted=accepted, derived=derived, requests=len(jobs))


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
