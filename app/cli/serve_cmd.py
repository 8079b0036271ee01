"""`meterbridge serve`: push listener + delivery + scheduler until SIGTERM/SIGINT.

Three processes: this one serves HTTP (and runs the scheduler), a child
commits to the journal (`listener.commit_process`), another delivers
(`serve_delivery.DeliveryProcess`: woken after every journal commit, and
every 30 s regardless, it drains the journal with `deliver_pending`; through
an EnergyCAP outage it keeps trying with the backoff settings while readings
wait safely in the journal). On SIGTERM/SIGINT the listener stops accepting,
answers what it has queued, delivery stops after its current request, and
the process exits 0.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from app.cli import EXIT_OK, UsageError
from app.cli.journal.deliver import connection_settings
from app.cli.journal.send import open_journal
from app.cli.loading import load_home, report_device_problems
from app.cli.serve_delivery import DeliveryProcess
from app.core.listener.server import PushListener, open_listener
from app.core.settings import EnergyCapSettings, Settings
from app.core.sources.register_modes import RegisterModes

log = logging.getLogger(__name__)

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


def _freeze_start_up_objects() -> None:
    """Leave what start-up made (modules, settings, the scheduler) out of the cycle
    collector's passes: a full pass over them stopped the listener's event loop for
    50-130 ms under load (one per few thousand requests); frozen, it takes about 5 ms."""
    gc.collect()
    gc.freeze()


def run_serve(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT; exit 0 after a clean shutdown."""
    paths, settings = load_home(args)
    paths.ensure()
    journal = open_journal(args, settings)
    ecap = None if args.no_deliver else connection_settings(_serve_args(args), settings)
    delivery = None
    if ecap is not None:
        delivery = DeliveryProcess(_serve_args(args), getattr(args, "verbose", 0))
        delivery.start()  # a missing API key or a bad mapping is a usage error now
    listener = open_listener(paths, _listen(args, settings), journal, commit_process=True)
    mapping_file = getattr(args, "mapping", None) or settings.mapping_file
    listener.committer.raw_sources = RegisterModes(lambda: mapping_file)  # register=raw rows
    if delivery is not None:
        listener.committer.on_commit = lambda _group: delivery.wake()
    try:
        listener.start()
    except (OSError, ValueError) as exc:
        if delivery is not None:
            delivery.stop()
        raise UsageError(f"cannot listen: {exc}") from None
    stop = threading.Event()
    _install_signals(stop)
    _announce(listener, ecap)
    if delivery is not None:
        delivery.wake()
    scheduler = _scheduler_loop(args, stop)
    _freeze_start_up_objects()
    next_prune = 0.0
    while not stop.wait(1.0):
        listener.save_stats()  # a failed write is logged, never fatal
        if delivery is not None:
            delivery.keep_alive()
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
        refused = "  PUSHES REFUSED (devices.json is wrong, see stderr)" if device.problem else ""
        print(
            f"  {device.name} ({device.connector}): {listener.url_for(device.name)}{refused}",
            flush=True,
        )
    report_device_problems(listener.devices)
    target = ecap.url if ecap else "nowhere (no EnergyCAP URL; readings wait in the journal)"
    print(f"meterbridge: delivering to {target}", flush=True)


def _shutdown(
    listener: PushListener, delivery: DeliveryProcess | None, scheduler: threading.Thread | None
) -> None:
    listener.stop()
    if delivery is not None:
        delivery.stop()
    if scheduler is not None:
        scheduler.join(5)
    print("meterbridge: stopped", flush=True)
