"""`meterbridge serve`: push listener + delivery + scheduler until SIGTERM/SIGINT.

Delivery runs in a background thread: woken after every journal commit (a
short pause gathers more), and every 30 s regardless, it drains the journal
with `deliver_pending`. Through an EnergyCAP outage it keeps trying with the
backoff settings; readings wait safely in the journal meanwhile. On
SIGTERM/SIGINT the listener stops accepting, answers what it has queued,
delivery stops after its current request, and the process exits 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from app.cli import EXIT_OK, UsageError
from app.cli.journal.deliver import connection_settings
from app.cli.journal.send import open_journal
from app.cli.loading import load_home, mapping_of
from app.core.delivery.engine import deliver_pending
from app.core.energycap.connection import ConnectionSetupError, client_from_settings
from app.core.journal.store import Journal
from app.core.listener.server import PushListener, open_listener
from app.core.settings import EnergyCapSettings, Settings
from app.core.sources.register_modes import RegisterModes

log = logging.getLogger(__name__)

DELIVERY_PERIOD_S = 30.0
GATHER_S = 0.5
SCHEDULER_PERIOD_S = 30.0


def _listen(args: argparse.Namespace, settings: Settings) -> Any:
    listener = dataclasses.replace(settings.listener)
    if args.listen:
        host, sep, port = args.listen.rpartition(":")
        if not sep or not port.isdigit():
            raise UsageError(f"--listen {args.listen!r}: write HOST:PORT, e.g. 127.0.0.1:8765")
        listener.host, listener.port = host.strip("[]") or "127.0.0.1", int(port)
    if args.lan:
        listener.allow_lan = True
    return listener


class _Delivery:
    """The background delivery loop."""

    def __init__(self, journal: Journal, settings: Settings, ecap: EnergyCapSettings, args: Any):
        self.stop = threading.Event()
        self.work = threading.Event()
        try:
            self.client = client_from_settings(ecap.url, ecap, sleep=self._sleep)
        except ConnectionSetupError as exc:
            raise UsageError(f"{exc} (or run with --no-deliver)") from None
        self.journal, self.ecap = journal, ecap
        self.table = mapping_of(args, settings)
        self.patience = settings.journal.outage_patience_s
        self.overwrite = bool(getattr(args, "overwrite", False))
        self.thread = threading.Thread(target=self._run, name="delivery", daemon=True)

    def _sleep(self, seconds: float) -> None:
        self.stop.wait(seconds)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.work.wait(DELIVERY_PERIOD_S)
            if self.stop.wait(GATHER_S):
                return
            self.work.clear()
            try:
                report = deliver_pending(
                    self.journal,
                    self.client,
                    self.ecap,
                    self.table,
                    overwrite=self.overwrite,
                    patience_s=self.patience,
                    cancel=self.stop.is_set,
                    sleep=self._sleep,
                )
            except Exception:  # the loop must survive anything and try again later
                log.exception("delivery failed; trying again in %s s", DELIVERY_PERIOD_S)
                continue
            if report.stopped:
                log.warning("delivery paused: %s", report.stopped)
                if report.pending_left:
                    self.work.set()
                self.stop.wait(min(self.ecap.backoff_cap_s, DELIVERY_PERIOD_S))


def _scheduler_loop(args: argparse.Namespace, stop: threading.Event) -> threading.Thread | None:
    try:
        from app.cli.pull.common import scheduler_for
        from app.core.paths import resolve_paths
        from app.core.sources.setup import restore_folder_jobs

        paths = resolve_paths(args.home)
        for name in restore_folder_jobs(paths):  # folder sources saved before folders ran
            log.warning("now watching the folder of source %r", name)
        scheduler = scheduler_for(paths)
    except Exception as exc:  # no saved jobs store or the pull area is absent: run without
        log.info("scheduler not started: %s", exc)
        return None

    def loop() -> None:
        while not stop.is_set():
            try:
                scheduler.run_pending()
            except Exception:  # a broken job must not stop the server
                log.exception("scheduler run failed")
            stop.wait(SCHEDULER_PERIOD_S)

    thread = threading.Thread(target=loop, name="scheduler", daemon=True)
    thread.start()
    return thread


def run_serve(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; exit 0 after a clean shutdown."""
    paths, settings = load_home(args)
    paths.ensure()
    journal = open_journal(args, settings)
    ecap = None if args.no_deliver else connection_settings(_serve_args(args), settings)
    delivery = _Delivery(journal, settings, ecap, args) if ecap is not None else None
    listener = open_listener(paths, _listen(args, settings), journal, commit_process=True)
    mapping_file = getattr(args, "mapping", None) or settings.mapping_file
    listener.committer.raw_sources = RegisterModes(lambda: mapping_file)  # register=raw rows
    if delivery is not None:
        listener.committer.on_commit = lambda _group: delivery.work.set()
    try:
        listener.start()
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot listen: {exc}") from None
    stop = threading.Event()
    _install_signals(stop)
    _announce(listener, ecap)
    if delivery is not None:
        delivery.work.set()
        delivery.thread.start()
    scheduler = _scheduler_loop(args, stop)
    next_prune = 0.0
    while not stop.wait(1.0):
        listener.save_stats()  # a failed write is logged, never fatal
        if time.monotonic() >= next_prune:  # daily: register points past the journal's retention
            next_prune = time.monotonic() + 86_400
            try:
                listener.committer.registers.prune(settings.journal.retention_days)
            except Exception:  # a locked or full disk: tried again tomorrow
                log.exception("register points not pruned")
    _shutdown(listener, delivery, scheduler)
    return EXIT_OK


def _serve_args(args: argparse.Namespace) -> argparse.Namespace:
    defaults = {"ecap_url": None, "api": None, "time_label": None, "overwrite": False}
    return argparse.Namespace(**{**defaults, **vars(args)})


def _install_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.warning("signal %s: shutting down", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _announce(listener: PushListener, ecap: EnergyCapSettings | None) -> None:
    host, port = listener.address
    print(f"meterbridge: listening on {listener.scheme}://{host}:{port}/push/<device>", flush=True)
    for device in listener.devices.all():
        print(f"  {device.name} ({device.connector}): {listener.url_for(device.name)}", flush=True)
    target = ecap.url if ecap else "nowhere (no EnergyCAP URL; readings wait in the journal)"
    print(f"meterbridge: delivering to {target}", flush=True)


def _shutdown(
    listener: PushListener, delivery: _Delivery | None, scheduler: threading.Thread | None
) -> None:
    listener.stop()
    if delivery is not None:
        delivery.stop.set()
        delivery.work.set()
        delivery.thread.join(15)
    if scheduler is not None:
        scheduler.join(5)
    print("meterbridge: stopped", flush=True)
