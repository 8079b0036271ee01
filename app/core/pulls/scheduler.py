"""When scheduled pulls run: pure timing rules, a scheduler over the job store, a loop.

Rules (each tested with a fixed clock):
    * A job runs on a grid: ``next_run``, ``next_run + interval``, ... The grid is
      kept across runs so a 15-minute job stays on its minutes.
    * When the clock passes ``next_run`` the job is due. After it runs, its next
      run is the first grid point strictly after *now*: runs missed while the
      machine slept (or the clock jumped forward) are caught up **once**, never
      as a burst, never as a loop of catch-ups.
    * A due job runs only when the network is reachable (an injected check).
      Until then it stays due and its outcome says it is waiting.
    * When the clock jumps backwards the next run is pulled in to at most one
      interval away, so a job never stalls for the size of the jump.
    * Paused jobs never run on schedule; `run_now` runs any job immediately.

The GUI drives `Scheduler.run_pending` from a QTimer; `meterbridge serve`
uses `SchedulerLoop` on a thread with a stop event.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from app.core.error_kinds import kind_of
from app.core.pulls.jobs import Job, JobOutcome, JobStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Reachable = Callable[[], bool]
JobRunner = Callable[[Job], JobOutcome]


def network_reachable(urls: list[str], timeout_s: float = 3.0) -> Reachable:
    """A reachability check: True when a TCP connection to any of `urls` opens.

    With no URL it always answers True (nothing to wait for).
    """
    targets = []
    for url in urls:
        parts = urlsplit(url)
        if parts.hostname:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            targets.append((parts.hostname, port))

    def check() -> bool:
        for target in targets:
            try:
                socket.create_connection(target, timeout=timeout_s).close()
                return True
            except OSError:
                continue
        return not targets

    return check


def utc_now() -> datetime:
    """The wall clock, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Timing:
    """What the timing rules say about one job at one instant."""

    due: bool
    missed: int  # grid points passed beyond the one that made the job due
    next_run: datetime  # next_run to keep when the job does not run now


def assess(next_run: datetime, interval: timedelta, now: datetime) -> Timing:
    """Apply the timing rules to a job's persisted `next_run` at `now`.

    Args:
        next_run: the persisted next run (aware).
        interval: the job's interval (> 0).
        now: the current time (aware).
    """
    next_run, now = next_run.astimezone(UTC), now.astimezone(UTC)
    if next_run > now + interval:  # the clock went backwards
        return Timing(due=False, missed=0, next_run=now + interval)
    if now < next_run:
        return Timing(due=False, missed=0, next_run=next_run)
    missed = int((now - next_run) / interval)
    return Timing(due=True, missed=missed, next_run=next_run)


def following(next_run: datetime, interval: timedelta, now: datetime) -> datetime:
    """The first grid point of `next_run` + k·interval strictly after `now`.

    Computed in UTC: a grid is real elapsed time, not wall-clock time.
    """
    next_run, now = next_run.astimezone(UTC), now.astimezone(UTC)
    if next_run > now:
        return next_run
    steps = int((now - next_run) / interval) + 1
    return next_run + steps * interval


class Scheduler:
    """Runs due jobs of a `JobStore` through a runner, one at a time.

    Args:
        store: the persisted jobs.
        runner: runs one job and returns its outcome (never raises on purpose;
            an exception is recorded as a failed outcome).
        clock: returns aware UTC now.
        reachable: True when the network is usable (checked before each run).
    """

    def __init__(
        self,
        store: JobStore,
        runner: JobRunner,
        *,
        clock: Clock = utc_now,
        reachable: Reachable = lambda: True,
    ) -> None:
        self.store = store
        self.runner = runner
        self.clock = clock
        self.reachable = reachable
        self._lock = threading.Lock()

    def run_pending(self, now: datetime | None = None) -> list[JobOutcome]:
        """Run every due, unpaused job once; returns the outcomes of the runs made."""
        now = now or self.clock()
        outcomes: list[JobOutcome] = []
        for job in self.store.list():
            if job.paused:
                continue
            timing = assess(job.next_run, job.interval, now)
            if not timing.due:
                if timing.next_run != job.next_run:
                    self.store.set_next_run(job.name, timing.next_run)
                continue
            outcome = self._run_due(job, timing, now)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _run_due(self, job: Job, timing: Timing, now: datetime) -> JobOutcome | None:
        if not self.reachable():
            if job.last_status != "waiting":
                self.store.record_waiting(job.name, now, "waiting for the network")
            return None
        if timing.missed:
            log.info("job %s: %d missed run(s) caught up once", job.name, timing.missed)
        outcome = self._execute(job, now)
        self.store.set_next_run(job.name, following(job.next_run, job.interval, self.clock()))
        return outcome

    def next_wakeup(self) -> datetime | None:
        """When the next unpaused job is due (for a timer); None without one."""
        times = [job.next_run for job in self.store.list() if not job.paused]
        return min(times) if times else None

    def run_now(self, name: str) -> JobOutcome:
        """Run one job immediately (paused or not); its schedule is kept.

        Raises:
            KeyError: when no job has this name.
        """
        job = self.store.get(name)
        return self._execute(job, self.clock())

    def _execute(self, job: Job, started: datetime) -> JobOutcome:
        with self._lock:
            if not self.store.claim(job.name, started):  # the GUI and `serve` both run jobs
                return JobOutcome(ok=True, message="already running elsewhere", partial=True)
            try:
                outcome = self.runner(job)
            except Exception as exc:  # a job's failure must not stop the others
                log.exception("job %s failed", job.name)
                outcome = JobOutcome(
                    ok=False, message=f"{type(exc).__name__}: {exc}", kind=kind_of(exc)
                )
            finally:
                self.store.release(job.name)
            self.store.record_run(job.name, started, self.clock(), outcome)
            return outcome

    def pause(self, name: str) -> None:
        """Stop running a job on schedule."""
        self.store.set_paused(name, True)

    def resume(self, name: str) -> None:
        """Run a job on schedule again; a run missed while paused is due at once."""
        self.store.set_paused(name, False)


class SchedulerLoop:
    """Calls `Scheduler.run_pending` every `tick_s` seconds until `stop` is set.

    Usage in ``meterbridge serve``::

        stop = threading.Event()
        loop = SchedulerLoop(scheduler, stop)
        threading.Thread(target=loop.run, daemon=True).start()
        ...
        stop.set()
    """

    def __init__(self, scheduler: Scheduler, stop: threading.Event, tick_s: float = 30.0) -> None:
        self.scheduler = scheduler
        self.stop = stop
        self.tick_s = tick_s

    def run(self) -> None:
        """Loop until stopped; a tick's exception is logged, never fatal."""
        while not self.stop.is_set():
            try:
                self.scheduler.run_pending()
            except Exception:  # keep serving; the log says what broke
                log.exception("scheduler tick failed")
            self.stop.wait(self.tick_s)
