"""What the desktop app runs in the background, in the tray too: listener, delivery, schedule.

Built here (the CLI floor may use both the UI and the pull runner) and handed
to the app, so the window, the tray and `meterbridge serve` share one engine.
Each piece that cannot start (port in use, no API key) is reported in plain
words and the others run on. `run_job_now` asks the scheduler thread to run a
job at once (the dashboard's Run now): the GUI thread never runs a pull.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.cli.gui.delivery import DeliveryState, DeliveryWatch
from app.core.delivery.engine import deliver_pending
from app.core.energycap.client import EnergyCapClient
from app.core.energycap.connection import (
    API_KEY_NAME,
    ConnectionSetupError,
    client_from_settings,
    mapping_table,
)
from app.core.journal.store import Journal
from app.core.mapping import MappingError, MappingTable
from app.core.paths import AppPaths
from app.core.pulls.jobs import JobOutcome
from app.core.secrets import SecretStore
from app.core.settings import Settings, load_settings
from app.core.settings.listener import is_loopback
from app.core.sources.register_modes import RegisterModes

log = logging.getLogger(__name__)

DELIVERY_PERIOD_S = 30.0
SCHEDULER_PERIOD_S = 30.0
JobDone = Callable[[str, JobOutcome], None]  # called on the scheduler thread


@dataclass
class GuiServices:
    """Listener + delivery + scheduler threads for one meterbridge home."""

    paths: AppPaths
    secrets: SecretStore = field(default_factory=SecretStore)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self.work = threading.Event()
        self.threads: list[threading.Thread] = []
        self.listener: Any = None
        self.journal: Journal | None = None
        self.schedule_wake = threading.Event()
        self.run_requests: queue.Queue[tuple[str, JobDone]] = queue.Queue()
        self.scheduling = False
        self.last_mapping_file = ""
        self.watch = DeliveryWatch()

    def start(self) -> list[str]:
        """Start what can start; returns plain notes on what runs and what does not."""
        settings = load_settings(self.paths.settings_file)
        self.journal = Journal.from_settings(self.paths.journal_file, settings.journal)
        self._start_listener(settings)
        self._start_delivery(settings)
        self._start_scheduler()
        self._thread("device-stats", self._save_device_stats)
        return self.notes

    @property
    def delivery(self) -> DeliveryState:
        """Whether delivery is connected, running or paused (and why, in plain words)."""
        return self.watch.state

    def device_stats(self) -> dict[str, dict[str, Any]]:
        """What the listener has seen of each device (name → fields); empty without it."""
        return self.listener.stats() if self.listener is not None else {}

    def listening(self) -> bool:
        """Whether the push listener runs (devices can deliver to this PC)."""
        return self.listener is not None

    def _save_device_stats(self) -> None:
        """Write the devices' last push to disk now and then (`device list` reads it)."""
        while not self.stopping.wait(5.0):
            if self.listener is not None:
                try:
                    self.listener.devices.save_stats()
                except OSError as exc:
                    log.warning("device statistics not saved: %s", exc)

    def _start_listener(self, settings: Settings) -> None:
        from app.core.listener.server import open_listener

        try:
            self.listener = open_listener(self.paths, settings.listener, self.journal)
            self.listener.committer.on_commit = lambda _group: self.work.set()
            # The mapping's register=raw rows, read again when Settings names another file.
            self.listener.committer.raw_sources = RegisterModes(self._mapping_file)
            self.listener.start()
        except (OSError, ValueError) as exc:
            self.listener = None
            self.notes.append(f"Push listener not running: {exc}")
            return
        host, port = self.listener.address
        reach = "this PC only" if is_loopback(str(host)) else "devices on the network"
        self.notes.append(f"Receiving pushes on port {port} ({reach})")
        devices = self.listener.devices
        for problem in devices.problems:  # a hand-edited devices.json: the device, then the file
            log.error("%s", problem)
            what = problem.removeprefix(f"{devices.path}: ")
            self.notes.append(f"Device file problem: {what} (in {devices.path})")

    def _mapping_file(self) -> str:
        try:
            self.last_mapping_file = load_settings(self.paths.settings_file).mapping_file
        except Exception:  # a settings file being rewritten: keep the last one
            log.debug("settings unreadable; mapping file kept", exc_info=True)
        return self.last_mapping_file

    def _start_delivery(self, settings: Settings) -> None:
        ecap = settings.energycap
        if not ecap.url or not self.secrets.get(API_KEY_NAME):
            self.watch.connected(False)
            self.notes.append("Not delivering: set the EnergyCAP host and API key in Settings.")
            return
        try:
            client = client_from_settings(
                ecap.url, ecap, secrets=self.secrets, sleep=self.stopping.wait
            )
        except ConnectionSetupError as exc:
            self.watch.connected(False)
            self.notes.append(f"Not delivering: {exc}")
            return
        self.watch.connected(True)
        self.work.set()  # deliver what waits at once (new settings may have fixed a pause)
        self._thread("delivery", lambda: self._deliver_loop(client))
        self.notes.append(f"Delivering to {ecap.url}")

    def _deliver_loop(self, client: EnergyCapClient) -> None:
        assert self.journal is not None
        while not self.stopping.is_set():
            self.work.wait(DELIVERY_PERIOD_S)
            self.work.clear()
            if self.stopping.is_set():
                return
            try:
                # Settings and mapping are read each time: the user may have changed them.
                settings = load_settings(self.paths.settings_file)
                table = _mapping(settings)
                report = deliver_pending(
                    self.journal, client, settings.energycap, table,
                    patience_s=settings.journal.outage_patience_s,
                    cancel=self.stopping.is_set, sleep=self.stopping.wait,
                )  # fmt: skip
            except MappingError as exc:
                log.error("delivery waits for a usable mapping: %s", exc)
                self.watch.paused(f"mapping: {exc}")
                continue
            except Exception as exc:  # the loop must outlive any one failure
                log.exception("delivery failed; trying again in %s s", DELIVERY_PERIOD_S)
                self.watch.paused(f"{type(exc).__name__}: {exc}")
                continue
            if report.stopped and not report.busy:
                log.warning("delivery paused: %s", report.stopped)
                self.watch.paused(report.stopped, auth_failed=report.auth_failed)
            elif not report.busy:
                self.watch.delivered()

    def _start_scheduler(self) -> None:
        try:
            from app.cli.pull.common import scheduler_for
            from app.core.sources.setup import restore_folder_jobs

            for name in restore_folder_jobs(self.paths):  # sources saved before folders ran
                self.notes.append(f"Now watching the folder of “{name}”")
            scheduler = scheduler_for(self.paths)
        except Exception as exc:  # no pull support in this build: the rest runs on
            self.notes.append(f"Schedule not running: {exc}")
            return

        def loop() -> None:
            while not self.stopping.is_set():
                self._run_requested(scheduler)
                try:
                    scheduler.run_pending()
                except Exception:  # a broken job must not stop the others
                    log.exception("scheduled run failed")
                self.schedule_wake.wait(SCHEDULER_PERIOD_S)
                self.schedule_wake.clear()

        self._thread("scheduler", loop)
        self.scheduling = True
        self.notes.append("Schedule running (checked every 30 s)")

    def _run_requested(self, scheduler: Any) -> None:
        """Run the jobs asked for with `run_job_now`, each reported to its caller."""
        while not self.stopping.is_set():
            try:
                name, done = self.run_requests.get_nowait()
            except queue.Empty:
                return
            try:
                outcome = scheduler.run_now(name)
            except KeyError as exc:  # removed meanwhile
                outcome = JobOutcome(ok=False, message=str(exc.args[0]))
            log.info("job %s run now: %s: %s", name, outcome.status, outcome.message)
            try:
                done(name, outcome)
            except Exception:  # the caller's report must not stop the schedule
                log.exception("reporting the run of %s failed", name)

    def run_job_now(self, name: str, done: JobDone) -> bool:
        """Ask the scheduler thread to run the job `name` now (paused or not).

        `done(name, outcome)` is called on the scheduler thread when it ends.
        Returns False when the schedule is not running (the caller runs it itself).
        """
        if not self.scheduling or self.stopping.is_set():
            return False
        self.run_requests.put((name, done))
        self.schedule_wake.set()
        return True

    def wake_schedule(self) -> None:
        """Look at the schedule now (a job was resumed or edited)."""
        self.schedule_wake.set()

    def _thread(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def wake(self) -> None:
        """Deliver now (after the user sent readings)."""
        self.work.set()

    def restart(self) -> list[str]:
        """Stop and start again with the saved settings (after Settings changed them)."""
        self.stop()
        self.__post_init__()
        self.notes = []
        notes = self.start()
        self.rerun_failed_jobs()
        return notes

    def rerun_failed_jobs(self) -> list[str]:
        """Run the jobs whose last run failed now, so fixed settings clear their errors."""
        if not self.scheduling:
            return []
        from app.core.pulls.jobs import JobStore

        jobs_file = self.paths.data_dir / "jobs.sqlite3"
        if not jobs_file.exists():
            return []
        failed = [j.name for j in JobStore(jobs_file).list()
                  if not j.paused and j.last_status in ("failed", "partial")]  # fmt: skip
        for name in failed:
            self.run_requests.put((name, lambda n, o: log.info("re-run %s: %s", n, o.status)))
        self.schedule_wake.set()
        return failed

    def pending_readings(self) -> int:
        """Readings received but not yet confirmed by EnergyCAP (0 when unknown)."""
        if self.journal is None:
            return 0
        try:
            counts = self.journal.counts()
        except Exception:  # a busy journal: do not block closing on it
            log.debug("journal counts unreadable", exc_info=True)
            return 0
        return int(counts.get("pending", 0) + counts.get("sent", 0))

    def stop(self) -> None:
        """Stop everything (the app is quitting)."""
        self.stopping.set()
        self.work.set()
        self.schedule_wake.set()
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        for thread in self.threads:
            thread.join(10)
        if self.journal is not None:
            self.journal.close()
            self.journal = None


def _mapping(settings: Settings) -> MappingTable:
    return mapping_table(settings)
