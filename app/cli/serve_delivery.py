"""`meterbridge serve`'s delivery: a loop in its own process, woken after journal commits.

The loop (`DeliveryLoop`): woken after every journal commit (a short pause
gathers more), and every 30 s regardless, it drains the journal with
`deliver_pending`. Through an EnergyCAP outage it keeps trying with the
backoff settings; readings wait safely in the journal meanwhile.

`serve` runs it in a child process (`DeliveryProcess`): HTTP intake, the
journal commit and delivery then run in three interpreters, and delivery's
pandas work never holds the listener's GIL. The child opens the same journal
file (SQLite WAL; one delivery at a time is ensured by the journal's delivery
lock) and runs at a lower CPU priority: a device waits for its answer,
delivery can wait a moment (acknowledged readings are committed in the
journal). Delivery keeps its guarantees in the child (`deliver_pending`:
confirmed only on an accounting answer, retries, `DeliveryStop`). Stopping:
the parent sends ``stop`` (or dies: end-of-file does the same); the child
sets its `DeliveryStop`, so every wait ends at once, the request in flight
is finished or its batch goes back to pending, and it exits. Ctrl-C reaches
the child too and is ignored there: the parent decides. A child that died is
started again by `keep_alive`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from app.cli import UsageError
from app.core.delivery.engine import DeliveryStop, deliver_pending
from app.core.energycap.connection import ConnectionSetupError, client_from_settings
from app.core.journal.store import Journal
from app.core.settings import EnergyCapSettings, Settings

log = logging.getLogger(__name__)

DELIVERY_PERIOD_S = 30.0
GATHER_S = 0.5
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0
NICENESS = 5  # lower CPU priority than the listener's processes (POSIX)
MAPPED_BYTES = 1 << 30  # of the journal read through a memory map (JournalBase.map_in_memory)
YOUNG_OBJECTS = 50_000  # new objects between the cycle collector's youngest passes
WAKE_EVERY_S = 0.1  # at most this often: the child's gathering pause covers the rest
WORK, STOP = b"w", b"s"


class DeliveryLoop:
    """The delivery loop: drain the journal when woken, and every 30 s."""

    def __init__(
        self,
        journal: Journal,
        settings: Settings,
        ecap: EnergyCapSettings,
        args: argparse.Namespace,
    ) -> None:
        from app.cli.loading import mapping_of

        self.stop = DeliveryStop()
        self.work = threading.Event()
        try:
            self.client = client_from_settings(ecap.url, ecap, sleep=self.stop.wait)
        except ConnectionSetupError as exc:
            raise UsageError(f"{exc} (or run with --no-deliver)") from None
        self.journal, self.ecap = journal, ecap
        self.table = mapping_of(args, settings)
        self.patience = settings.journal.outage_patience_s
        self.overwrite = bool(getattr(args, "overwrite", False))

    def run(self) -> None:
        """Deliver until `stop` is set."""
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
                    sleep=self.stop.wait,
                )
            except Exception:  # the loop must survive anything and try again later
                log.exception("delivery failed; trying again in %s s", DELIVERY_PERIOD_S)
                continue
            if report.stopped:
                log.warning("delivery paused: %s", report.stopped)
                if report.pending_left:
                    self.work.set()
                self.stop.wait(min(self.ecap.backoff_cap_s, DELIVERY_PERIOD_S))


class DeliveryProcess:
    """The parent's handle on the delivery child: start, wake, keep alive, stop."""

    def __init__(self, args: argparse.Namespace, verbose: int = 0) -> None:
        self.args = _plain(args)
        self.verbose = verbose
        self.process: Any = None
        self.conn: Connection | None = None
        self._lock = threading.Lock()
        self._stopping = False
        self._woken_at = 0.0

    def start(self) -> None:
        """Start the child; wait until it has its journal and EnergyCAP client.

        Raises:
            UsageError: the child could not start delivering (its message says why).
        """
        context = multiprocessing.get_context("spawn")  # the same on Windows and POSIX
        parent, child = context.Pipe()
        process = context.Process(
            target=child_main,
            args=(child, self.args, self.verbose),
            name="meterbridge-delivery",
            daemon=True,
        )
        process.start()
        child.close()
        answer = parent.recv() if parent.poll(START_TIMEOUT_S) else "did not start in time"
        if answer != "ready":
            process.kill()
            parent.close()
            raise UsageError(str(answer))
        with self._lock:
            self.process, self.conn = process, parent

    def wake(self) -> None:
        """Ask the child to deliver soon (called after each journal commit).

        Wake-ups closer than `WAKE_EVERY_S` are one: the child gathers for
        `GATHER_S` (longer) before it starts, so what was committed meanwhile
        goes in the same run.
        """
        now = time.monotonic()
        if now - self._woken_at >= WAKE_EVERY_S:
            self._woken_at = now
            self._send(WORK)

    def keep_alive(self) -> None:
        """Start a new child when the last one died (logged); never raises."""
        if self._stopping or self.process is None or self.process.is_alive():
            return
        log.error("the delivery process stopped (exit %s); starting another", self.process.exitcode)
        with self._lock:
            if self.conn is not None:
                self.conn.close()
            self.process = self.conn = None
        try:
            self.start()
            self.wake()
        except UsageError as exc:
            log.error("delivery not restarted: %s", exc)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the child after its request in flight; kill it if it does not end in time."""
        self._stopping = True
        self._send(STOP)
        process = self.process
        if process is not None:
            process.join(timeout)
            if process.is_alive():
                log.warning("the delivery process did not stop in %s s: killed", timeout)
                process.kill()
                process.join(5)
        with self._lock:
            if self.conn is not None:
                self.conn.close()
            self.process = self.conn = None

    def _send(self, message: bytes) -> None:
        with self._lock:
            if self.conn is None:
                return
            with contextlib.suppress(OSError):  # the child died: keep_alive starts another
                self.conn.send_bytes(message)


def _plain(args: argparse.Namespace) -> argparse.Namespace:
    """The command line's options that travel to the child (no functions)."""
    simple = (str, int, float, bool, type(None), Path, list, tuple)
    return argparse.Namespace(**{k: v for k, v in vars(args).items() if isinstance(v, simple)})


def child_main(conn: Connection, args: argparse.Namespace, verbose: int) -> None:
    """The delivery child: open the journal and the client, deliver until told to stop."""
    from app.cli import setup_logging
    from app.cli.journal.deliver import connection_settings
    from app.cli.loading import load_home, open_journal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops us in order
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(NICENESS)
    setup_logging(verbose)
    try:
        _, settings = load_home(args)
        journal = open_journal(args, settings)
        journal.map_in_memory(MAPPED_BYTES)
        ecap = connection_settings(args, settings)
        if ecap is None:
            raise UsageError("no EnergyCAP URL")
        loop = DeliveryLoop(journal, settings, ecap, args)
    except Exception as exc:  # the parent reports it and stops
        conn.send(str(exc) if isinstance(exc, UsageError) else f"{type(exc).__name__}: {exc}")
        return
    _freeze_start_up_objects()
    conn.send("ready")
    listener = threading.Thread(target=_listen, args=(conn, loop), name="delivery-orders")
    listener.daemon = True
    listener.start()
    try:
        loop.run()
    finally:
        journal.close()


def _freeze_start_up_objects() -> None:
    """Leave what start-up made (modules, pandas, settings) out of the cycle collector's
    full passes: each batch builds thousands of body objects, whose passes otherwise
    walked every module object too (about 0.09 ms CPU a 50-reading request, 10 %).

    The youngest generation is collected every `YOUNG_OBJECTS` new objects (Python's
    700 meant a pass over a batch's live rows about 15 times a batch: 0.04 ms CPU a
    request; this process makes few reference cycles, and at most that many wait).
    """
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)


def _listen(conn: Connection, loop: DeliveryLoop) -> None:
    """Turn the parent's messages into wake-ups; stop on ``stop`` or end-of-file."""
    try:
        while True:
            message = conn.recv_bytes()
            if message == STOP:
                break
            loop.work.set()
    except (EOFError, OSError):
        pass  # the parent is gone: stop as if told to
    finally:
        loop.stop.set()
        loop.work.set()
