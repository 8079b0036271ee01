"""Scheduler timing with a fixed clock: grid, sleep gaps, clock jumps, network, pause."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.core.pulls.jobs import Job, JobOutcome, JobStore
from app.core.pulls.scheduler import Scheduler, SchedulerLoop, assess, following, network_reachable

T0 = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # the night the UK clocks go forward
STEP = timedelta(minutes=15)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Scheduler, Clock, list[tuple[str, datetime]], dict[str, bool]]:
    clock = Clock(T0)
    runs: list[tuple[str, datetime]] = []
    net = {"up": True}

    def runner(job: Job) -> JobOutcome:
        runs.append((job.name, clock.now))
        if job.config.get("fail"):
            raise RuntimeError("Verdigris answered 503")
        return JobOutcome(ok=True, message="12 readings", readings=12)

    store = JobStore(tmp_path / "jobs.sqlite3")
    store.save("vg", "verdigris", {}, STEP, first_run=T0 + STEP)
    sched = Scheduler(store, runner, clock=clock, reachable=lambda: net["up"])
    return sched, clock, runs, net


def test_job_runs_on_its_grid_and_persists_next_run(setup, tmp_path: Path) -> None:
    sched, clock, runs, _ = setup
    for minutes in (5, 15, 20, 30, 44, 45):
        clock.now = T0 + timedelta(minutes=minutes)
        sched.run_pending()
    assert [t for _, t in runs] == [T0 + timedelta(minutes=m) for m in (15, 30, 45)]
    reopened = JobStore(tmp_path / "jobs.sqlite3").get("vg")
    assert reopened.next_run == T0 + timedelta(hours=1)
    assert reopened.last_status == "ok" and reopened.last_message == "12 readings"
    assert reopened.last_start == T0 + timedelta(minutes=45)


def test_sleep_gap_is_caught_up_once_not_a_burst(setup) -> None:
    sched, clock, runs, _ = setup
    clock.now = T0 + timedelta(hours=7, minutes=3)  # laptop slept seven hours
    sched.run_pending()
    sched.run_pending()
    sched.run_pending()
    assert len(runs) == 1
    job = sched.store.get("vg")
    assert job.next_run == T0 + timedelta(hours=7, minutes=15)  # back on the grid
    clock.now = T0 + timedelta(hours=7, minutes=15)
    sched.run_pending()
    assert len(runs) == 2


def test_catch_up_waits_for_the_network(setup) -> None:
    sched, clock, runs, net = setup
    net["up"] = False
    clock.now = T0 + timedelta(hours=3)
    for _ in range(5):
        sched.run_pending()
        clock.now += timedelta(seconds=30)
    assert runs == []
    assert sched.store.get("vg").last_status == "waiting"
    net["up"] = True
    sched.run_pending()
    sched.run_pending()
    assert len(runs) == 1
    assert sched.store.get("vg").next_run == T0 + timedelta(hours=3, minutes=15)


def test_clock_jump_backwards_does_not_stall(setup) -> None:
    sched, clock, runs, _ = setup
    clock.now = T0 + timedelta(minutes=15)
    sched.run_pending()
    clock.now = T0 - timedelta(days=2)  # the clock was set back two days
    sched.run_pending()
    assert sched.store.get("vg").next_run == clock.now + STEP
    clock.now += STEP
    sched.run_pending()
    assert len(runs) == 2


def test_pause_resume_and_run_now(setup) -> None:
    sched, clock, runs, _ = setup
    assert sched.next_wakeup() == T0 + STEP
    sched.pause("vg")
    assert sched.next_wakeup() is None
    clock.now = T0 + timedelta(hours=1)
    sched.run_pending()
    assert runs == []
    outcome = sched.run_now("vg")  # run now works while paused
    assert outcome.ok and len(runs) == 1
    sched.resume("vg")
    sched.run_pending()  # the run missed while paused is due once
    sched.run_pending()
    assert len(runs) == 2
    with pytest.raises(KeyError, match="vg"):
        sched.run_now("nope")


def test_failure_is_recorded_and_does_not_stop_others(setup) -> None:
    sched, clock, _runs, _ = setup
    sched.store.save("bad", "sftp", {"fail": True}, STEP, first_run=T0 + STEP)
    clock.now = T0 + STEP
    outcomes = sched.run_pending()
    assert sorted(o.status for o in outcomes) == ["failed", "ok"]
    bad = sched.store.get("bad")
    assert bad.last_status == "failed" and "503" in (bad.last_message or "")
    assert bad.next_run == T0 + 2 * STEP  # a failure does not make it loop


def test_timing_rules_pure() -> None:
    nxt = T0 + STEP
    assert not assess(nxt, STEP, T0).due
    late = assess(nxt, STEP, T0 + timedelta(hours=1, minutes=1))
    assert late.due and late.missed == 3
    assert following(nxt, STEP, T0 + timedelta(hours=1, minutes=1)) == T0 + timedelta(
        hours=1, minutes=15
    )
    assert following(nxt, STEP, nxt) == nxt + STEP  # strictly after now


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York"])
def test_grid_is_absolute_time_across_clock_changes(zone: str) -> None:
    """An hourly job keeps 60 real minutes between runs over a DST change."""
    tz = ZoneInfo(zone)
    start = datetime(2026, 11, 1, 0, 0, tzinfo=tz) if "New_York" in zone else None
    start = start or datetime(2026, 10, 25, 0, 0, tzinfo=tz)
    nxt = start
    times = []
    for _ in range(4):
        nxt = following(nxt, timedelta(hours=1), nxt)
        times.append(nxt.astimezone(UTC))
    gaps = {b - a for a, b in itertools.pairwise(times)}
    assert gaps == {timedelta(hours=1)}


def test_loop_runs_until_stopped(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    now = datetime.now(UTC)
    store.save("x", "verdigris", {}, timedelta(hours=1), first_run=now - timedelta(seconds=1))
    ran = threading.Event()

    def runner(job: Job) -> JobOutcome:
        ran.set()
        return JobOutcome(ok=True, message="done")

    stop = threading.Event()
    loop = SchedulerLoop(Scheduler(store, runner), stop, tick_s=0.01)
    thread = threading.Thread(target=loop.run)
    thread.start()
    assert ran.wait(5)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert store.get("x").next_run > now


def test_network_reachable_probes_tcp() -> None:
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert network_reachable([f"http://127.0.0.1:{port}/api"])()
    assert not network_reachable([f"http://127.0.0.1:{port}/api"], timeout_s=1)()
    assert network_reachable([])()


def test_a_job_running_in_another_process_is_not_run_twice(setup, tmp_path: Path) -> None:
    sched, clock, runs, _ = setup
    other = JobStore(tmp_path / "jobs.sqlite3")  # e.g. `serve` while the GUI is open
    assert other.claim("vg", clock.now)
    outcome = sched.run_now("vg")
    assert runs == [] and outcome.message == "already running elsewhere"
    other.release("vg")
    assert sched.run_now("vg").ok and len(runs) == 1
    assert other.claim("vg", clock.now)  # released after the run
    clock.now += timedelta(hours=7)  # a crashed holder's lease runs out
    assert sched.run_now("vg").message == "12 readings"
