"""The delivery engine: drain the journal into EnergyCAP, batch by batch, with receipts.

For each batch of pending readings: map them with the *current* mapping (so
a fixed mapping applies to replayed readings) plus the hints journaled with
them (the identities a Readings-API body named; the user's rows win), skip those EnergyCAP already
has with the same value (keyed by channel and time), hold those it has with
another value (unless overwriting), then for every request: mark the batch
`sent`, send it, and mark each reading `confirmed` or `rejected` only from
EnergyCAP's answer (Readings/ESA: the 200 and its failedReadings; Import: the
task polled to its end). A crash at any point leaves readings `sent`, which
the next run sends again: harmless, since EnergyCAP keys readings by
channel and time.

`TransientError` (outage, throttling beyond the client's retries) is waited
out for `patience_s`, then the run stops with readings still pending;
`AuthError` and `RedirectError` (the key or the host is wrong) stop at once.
Readings EnergyCAP refuses go to the dead-letter list with its reason; so
does, alone, a reading no request can carry (`delivery_checks`): no single
reading stops the queue. Readings an answer does not account for stay
pending (`unconfirmed`, with the reason in `notes`). Any unexpected exception
leaves its batch pending (the receipt says why), is logged once with its
traceback and ends the run with `stopped` set: never a tight loop.

Stopping: the app and `serve` hold a `threading.Event` (e.g. `DeliveryStop`),
give the client its `wait` as `sleep` and pass its `is_set` as `cancel`; on
shutdown or Cancel they `set()` it. Every wait (Retry-After, backoff, outage
rounds, task polling) then returns at once, the client raises
`CancelledError` instead of trying again, the batch in flight goes back to
pending, and `deliver_pending` returns with `cancelled` set.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from app.core.delivery.checks import unsendable
from app.core.delivery.send import Attempt, send_batch
from app.core.delivery.targets import split_settled
from app.core.energycap.client import (
    AuthError,
    CancelledError,
    EnergyCapClient,
    EnergyCapError,
    RedirectError,
    TransientError,
)
from app.core.energycap.exporter import ExportError
from app.core.journal.hints import map_with_hints
from app.core.journal.lock import DeliveryLock
from app.core.journal.store import Journal
from app.core.mapping import MappingTable
from app.core.settings import EnergyCapSettings

log = logging.getLogger(__name__)

IMPORT_BATCH = 100_000  # readings per round for the Import API (one file + task per group)
LISTED_REJECTIONS = 10_000  # rejected reading ids kept in a report for listing
_LAST_UNEXPECTED: dict[str, str] = {}  # journal path → the last unexpected error logged


class DeliveryStop(threading.Event):
    """A stop button for delivery runs, shared by the client's waits and the run.

    Build the client with ``sleep=stop.wait, cancelled=stop.is_set`` and call
    ``deliver_pending(..., cancel=stop.is_set, sleep=stop.wait)``; ``stop.set()``
    (app shutdown, Cancel) ends every wait at once and the run after the
    request in flight, its readings pending. ``wait`` never raises on a
    negative or non-finite number of seconds.
    """

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds (clamped to 0 … 1 day); True when stopped."""
        if timeout is not None:
            timeout = min(max(timeout, 0.0), 86400.0) if timeout == timeout else 0.0
        return super().wait(timeout)


@dataclass
class DeliveryReport:
    """What one `deliver_pending` run did (counts of readings)."""

    confirmed: int = 0
    already_delivered: int = 0
    rejected: int = 0
    not_sent: int = 0  # dead-lettered here: the API cannot carry them (never sent)
    unconfirmed: int = 0  # the answer did not account for them: kept pending this run
    held: int = 0
    requests: int = 0
    pending_left: int = 0
    stopped: str | None = None
    auth_failed: bool = False  # the key or the host was refused (401/403, a redirect)
    failed: bool = False  # an unexpected error stopped the run (logged with its traceback)
    busy: bool = False  # another run was delivering from the journal: it sends these too
    cancelled: bool = False
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why readings were left unconfirmed
    rejected_ids: list[int] = field(default_factory=list)
    not_sent_ids: list[int] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Everything pending was confirmed (or was already there): nothing left or refused."""
        return (
            self.stopped is None
            and not self.cancelled
            and self.pending_left == 0
            and self.unconfirmed == 0
            and self.rejected == 0
            and self.not_sent == 0
            and self.held == 0
        )

    def describe(self) -> str:
        """One line for the user."""
        parts = [f"delivered {self.confirmed}"]
        if self.already_delivered:
            parts.append(f"{self.already_delivered} already at EnergyCAP")
        parts.append(f"rejected {self.rejected}")
        if self.not_sent:
            parts.append(f"not sendable {self.not_sent}")
        if self.unconfirmed:
            parts.append(f"unaccounted {self.unconfirmed}")
        parts.append(f"held {self.held}")
        parts.append(f"pending {self.pending_left}")
        return ", ".join(parts) + f" ({self.requests} requests)"


Progress = Callable[[DeliveryReport], None]


def deliver_pending(
    journal: Journal,
    client: EnergyCapClient,
    settings: EnergyCapSettings,
    mapping: MappingTable,
    *,
    overwrite: bool = False,
    patience_s: float = 0.0,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    lock_wait_s: float = 0.0,
) -> DeliveryReport:
    """Send every pending reading of the journal to EnergyCAP; return what happened.

    Args:
        journal: the journal to drain.
        client: the EnergyCAP client (it retries each request itself).
        settings: API, time label, batch size, task polling, backoff base and cap.
        mapping: the mapping applied now, at delivery time.
        overwrite: release held changed values and let them replace EnergyCAP's.
        patience_s: how long to keep retrying through an outage before stopping.
        progress: called after every batch with the running report.
        cancel: returns True to stop after the current request; while the run
            lasts the client checks it too, after every wait between retries.
        sleep: waits between outage retries (tests pass a fast one; the app a
            `DeliveryStop.wait`, so that stopping ends the wait at once).
        lock_wait_s: how long to wait when another run (thread or process) is
            delivering from the same journal; then the run returns with `stopped` set.
    """
    report = DeliveryReport()
    other = DeliveryLock(journal.path)
    waits = lock_wait_s > 0
    if not journal.delivery_lock.acquire(blocking=waits, timeout=lock_wait_s if waits else -1):
        return _busy(journal, report)
    was_cancelled = client.cancelled
    if cancel is not None:
        client.cancelled = cancel
    try:
        if not other.acquire(lock_wait_s):
            return _busy(journal, report)
        return _deliver_all(journal, client, settings, mapping, report, overwrite, patience_s,
                            progress, cancel, sleep)  # fmt: skip
    finally:
        client.cancelled = was_cancelled
        other.release()
        journal.delivery_lock.release()


def _busy(journal: Journal, report: DeliveryReport) -> DeliveryReport:
    report.stopped = f"another delivery from the journal {journal.path} is running"
    report.busy = True
    report.pending_left = journal.pending_count()
    return report


def _deliver_all(
    journal: Journal,
    client: EnergyCapClient,
    settings: EnergyCapSettings,
    mapping: MappingTable,
    report: DeliveryReport,
    overwrite: bool,
    patience_s: float,
    progress: Progress | None,
    cancel: Callable[[], bool] | None,
    sleep: Callable[[float], None],
) -> DeliveryReport:
    journal.recover_in_flight()
    journal.prune_delivered()
    if overwrite:
        journal.release_held()
    run = _Delivery(journal, client, settings, mapping, report, cancel or (lambda: False))
    deadline = time.monotonic() + patience_s
    outages = 0
    while True:
        try:
            if run.drain(progress):
                break
        except (AuthError, RedirectError) as exc:
            report.stopped, report.auth_failed = str(exc), True
            break
        except CancelledError:
            report.cancelled = True
            break
        except TransientError as exc:
            outages += 1
            wait = _backoff(settings, outages)
            if time.monotonic() + wait > deadline:
                report.stopped = str(exc)
                break
            log.warning("EnergyCAP unavailable (%s); trying again in %.1f s", exc, wait)
            sleep(wait)
        except EnergyCapError as exc:
            report.stopped = str(exc)
            break
        except Exception as exc:  # a bug or a hostile answer: the batch went back to pending
            report.stopped, report.failed = _unexpected(journal, exc), True
            break
    report.pending_left = journal.pending_count()
    return report


def _unexpected(journal: Journal, exc: Exception) -> str:
    """Log an unexpected error (with its traceback the first time it is seen); say it."""
    said = f"{type(exc).__name__}: {exc}"[:500]
    if _LAST_UNEXPECTED.get(str(journal.path)) != said:
        _LAST_UNEXPECTED[str(journal.path)] = said
        log.exception("unexpected error while delivering; the readings stay pending")
    else:
        log.warning("unexpected error while delivering again (%s); readings stay pending", said)
    return (
        f"unexpected error while delivering ({said}); the readings stay pending and are sent "
        "again by the next run (details in the log)"
    )


def _backoff(settings: EnergyCapSettings, attempt: int) -> float:
    """Full-jitter exponential backoff between outage rounds (base and cap from settings)."""
    ceiling = min(settings.backoff_cap_s, settings.backoff_base_s * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


@dataclass
class _Delivery:
    journal: Journal
    client: EnergyCapClient
    settings: EnergyCapSettings
    mapping: MappingTable
    report: DeliveryReport
    cancel: Callable[[], bool]
    utc_zone: int | None = None
    versions: dict[int, int] = field(default_factory=dict)
    deferred: set[int] = field(default_factory=set)  # kept pending, not sent again this run

    def drain(self, progress: Progress | None) -> bool:
        """Deliver batches until nothing is pending; True when done (or cancelled)."""
        size = max(IMPORT_BATCH if self.settings.api == "import" else self.settings.batch_size, 1)
        while not self.cancel():
            pending = self.journal.pending(size + len(self.deferred), origins=False)
            if self.deferred:
                pending = pending.loc[~pending["id"].isin(self.deferred)].head(size)
            if pending.empty:
                return True
            self._deliver(pending)
            if progress is not None:
                progress(self.report)
        self.report.cancelled = True
        return True

    def _deliver(self, pending: pd.DataFrame) -> None:
        ids = pending["id"].astype("int64").tolist()
        self.versions = dict(zip(ids, pending["version"].astype("int64").tolist(), strict=True))
        hints = self.journal.hints_for(pending["source"].dropna().unique().tolist())
        mapped = self._sendable(map_with_hints(pending, self.mapping, hints))
        try:
            to_send, settled = split_settled(self.journal, mapped, self.settings)
        except ExportError as exc:
            self._reject_all(mapped, str(exc))
            return
        already_delivered, held = self.journal.settle(
            settled.already_delivered, settled.held, self.versions
        )
        self.report.already_delivered += already_delivered
        self.report.held += held
        if len(to_send):
            self._send(to_send)

    def _sendable(self, mapped: pd.DataFrame) -> pd.DataFrame:
        """Dead-letter, one by one, the readings no request can carry; the rest go on."""
        reasons = unsendable(mapped, self.settings)
        if not reasons:
            return mapped
        done = self.journal.reject(reasons, self.versions)
        self.report.not_sent += len(done)
        room = LISTED_REJECTIONS - len(self.report.not_sent_ids)
        self.report.not_sent_ids.extend(done[: max(room, 0)])
        keep = ~mapped["id"].isin(list(reasons)).to_numpy(dtype=bool)
        return mapped.loc[keep].reset_index(drop=True)

    def _send(self, to_send: pd.DataFrame) -> None:
        if self.settings.api == "import" and self.utc_zone is None:
            self.utc_zone = self.client.utc_time_zone_id()
        attempt = Attempt(
            self.journal, self.client, self.settings, self.utc_zone, self.cancel, self.versions
        )
        try:
            outcome = send_batch(attempt, to_send)
        except ExportError as exc:  # nothing was sent: only the source at fault is refused
            sources = to_send["source_id"].unique()
            if len(sources) < 2:
                self._reject_all(to_send, str(exc))
                return
            for source in sources:
                alone = (to_send["source_id"] == source).to_numpy(dtype=bool)
                self._send(to_send.loc[alone].reset_index(drop=True))
            return
        self.report.requests += outcome.requests
        self.report.confirmed += outcome.confirmed
        self.report.rejected += len(outcome.rejected)
        self.report.not_sent += len(outcome.unsendable)
        self.report.unconfirmed += len(outcome.deferred)
        self.deferred.update(outcome.deferred)
        for note in outcome.notes:
            if note not in self.report.notes and len(self.report.notes) < 20:
                self.report.notes.append(note)
        self._note(outcome.rejected.values(), outcome.rejected)
        room = LISTED_REJECTIONS - len(self.report.not_sent_ids)
        self.report.not_sent_ids.extend(list(outcome.unsendable)[: max(room, 0)])

    def _reject_all(self, frame: pd.DataFrame, reason: str) -> None:
        ids = frame["id"].astype("int64").tolist()
        ids = self.journal.reject({i: reason for i in ids}, self.versions)
        self.report.rejected += len(ids)
        self._note([reason], ids)

    def _note(self, reasons: Any, ids: Any) -> None:
        room = LISTED_REJECTIONS - len(self.report.rejected_ids)
        self.report.rejected_ids.extend(list(ids)[: max(room, 0)])
        for reason in reasons:
            if reason not in self.report.reasons and len(self.report.reasons) < 20:
                self.report.reasons.append(reason)
