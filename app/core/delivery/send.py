"""Sending one batch of mapped readings, with its receipts written around each request.

Order per request: receipt + readings marked `sent` (committed) → request →
answer → confirmed/rejected + receipt closed (committed; a large batch's
confirmations in parts of `FINISH_CHUNK`, the receipt with the last). The crash points
(`METERBRIDGE_CRASH_AT`, test-only) sit between these steps.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from app.core.delivery.trace import ImportVerdict, import_verdict, readings_verdict
from app.core.energycap.client import ApiError, EnergyCapClient
from app.core.energycap.exporter import ImportFile, api_batches, import_files
from app.core.journal.marks import Targets, unaccounted_reason
from app.core.journal.queue import JournalChanged, Outcome
from app.core.journal.store import Journal
from app.core.settings import EnergyCapSettings

CRASH_ENV = "METERBRIDGE_CRASH_AT"
CRASH_SKIP_ENV = "METERBRIDGE_CRASH_SKIP"
CRASH_DELAY_ENV = "METERBRIDGE_CRASH_DELAY_S"
_crash_hits: dict[str, int] = {}
# SIGKILL where it exists; on Windows os.kill(pid, SIGTERM) is TerminateProcess, as abrupt.
_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def _crash_due(name: str) -> bool:
    if os.environ.get(CRASH_ENV) != name:
        return False
    _crash_hits[name] = _crash_hits.get(name, 0) + 1
    return _crash_hits[name] > int(os.environ.get(CRASH_SKIP_ENV, "0"))


def crash_point(name: str) -> None:
    """TEST ONLY: SIGKILL this process here when ``METERBRIDGE_CRASH_AT`` names this point.

    ``METERBRIDGE_CRASH_SKIP=N`` lets the first N passes go by. Points:
    after_journal_commit, after_upload_before_receipt, during_task_poll
    (and mid_upload, see `crash_during`).
    """
    if _crash_due(name):
        os.kill(os.getpid(), _KILL)


@contextmanager
def crash_during(name: str) -> Iterator[None]:
    """TEST ONLY: SIGKILL this process while the request inside is in flight.

    Fires ``METERBRIDGE_CRASH_DELAY_S`` (default 0.05) seconds after the
    request started, if it has not finished by then.
    """
    if not _crash_due(name):
        yield
        return
    delay = float(os.environ.get(CRASH_DELAY_ENV, "0.05"))
    timer = threading.Timer(delay, os.kill, args=(os.getpid(), _KILL))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@dataclass
class Attempt:
    """What sending needs: the journal, the client, the settings, EnergyCAP's UTC zone id."""

    journal: Journal
    client: EnergyCapClient
    settings: EnergyCapSettings
    utc_zone: int | None
    cancel: Callable[[], bool]
    versions: dict[int, int]

    def start(
        self, api: str, sent: pd.DataFrame, rows: np.ndarray[Any, np.dtype[np.int64]]
    ) -> int | None:
        """The receipt of a new batch of the readings at positions `rows` of `sent`, or
        None when they changed meanwhile (since read with their versions)."""
        ids = sent["id"].to_numpy(dtype="int64")[rows]
        if "version" in sent.columns:  # read with them: no look-up by id
            versions: Any = sent["version"].to_numpy(dtype="int64")[rows]
        else:
            versions = self.versions
        try:
            return self.journal.start_batch(api, ids, versions)
        except JournalChanged:
            return None  # they stay pending with their new values: the next round sends them


@dataclass
class SendOutcome:
    """Counts of one `send_batch`."""

    requests: int = 0
    confirmed: int = 0
    rejected: dict[int, str] = field(default_factory=dict)
    unsendable: dict[int, str] = field(default_factory=dict)  # refused here, never sent
    deferred: list[int] = field(default_factory=list)  # kept pending, not again in this run
    notes: list[str] = field(default_factory=list)  # why readings were left unconfirmed


def send_batch(attempt: Attempt, to_send: pd.DataFrame) -> SendOutcome:
    """Send mapped readings (with `id`, `_target`, `_at`) through the configured API.

    Raises:
        ExportError: the readings cannot be expressed in this API (nothing was sent).
        AuthError, TransientError, EnergyCapError: the request's readings are pending again.
    """
    if attempt.settings.api == "import":
        return _send_import(attempt, to_send)
    return _send_readings(attempt, to_send)


def _label(settings: EnergyCapSettings) -> Literal["end", "start"]:
    return "start" if settings.time_label == "start" else "end"


def _send_readings(attempt: Attempt, to_send: pd.DataFrame) -> SendOutcome:
    api: Literal["readings", "esa"] = "esa" if attempt.settings.api == "esa" else "readings"
    outcome = SendOutcome()
    batches = api_batches(
        to_send, api=api, label=_label(attempt.settings), batch_size=attempt.settings.batch_size
    )
    for batch in batches:
        if attempt.cancel():
            break
        receipt = attempt.start(api, to_send, batch.rows)
        if receipt is None:
            continue
        with released_on_error(attempt, receipt):
            with crash_during("mid_upload"):
                answer = _guarded(partial(attempt.client.post_readings, batch.body, api))
            outcome.requests += 1
            if isinstance(answer, ApiError):
                _finish(attempt, to_send, receipt, batch.rows, {}, answer, outcome)
                continue
            crash_point("after_upload_before_receipt")
            verdict = readings_verdict(batch, answer)
            word = "unaccounted" if verdict.unconfirmed else None
            _finish(attempt, to_send, receipt, batch.rows, verdict.refused, answer.status, outcome,
                    word, verdict)  # fmt: skip
    return outcome


@contextmanager
def released_on_error(attempt: Attempt, receipt: int) -> Iterator[None]:
    """Whatever goes wrong while a batch is out (an outage, a bug, Ctrl-C), its readings
    go back to pending and its receipt says why: the journal stays consistent."""
    try:
        yield
    except BaseException as exc:
        attempt.journal.release_batch(receipt, type(exc).__name__, str(exc)[:500])
        raise


CHANNEL_ID_IN_IMPORT = (
    "source {source!r} is mapped to channelId {channel}: a numeric channelId cannot go in an "
    "Import API file; map it by channel_import_id or use --api readings (not sent)"
)


def _send_import(attempt: Attempt, to_send: pd.DataFrame) -> SendOutcome:
    settings = attempt.settings
    outcome = SendOutcome()
    to_send = _without_channel_ids(attempt, to_send, outcome)
    if to_send.empty:
        return outcome
    files = import_files(to_send, label=_label(settings), time_zone_id=attempt.utc_zone)
    for file in files:
        if attempt.cancel():
            break
        receipt = attempt.start("import", to_send, file.rows)
        if receipt is None:
            continue
        with released_on_error(attempt, receipt):
            _import_file(attempt, to_send, file, receipt, outcome)
    return outcome


def _import_file(
    attempt: Attempt, to_send: pd.DataFrame, file: ImportFile, receipt: int, outcome: SendOutcome
) -> None:
    with crash_during("mid_upload"):
        guid = _guarded(partial(_start, attempt, file.data, file.profile))
    outcome.requests += 1
    if isinstance(guid, ApiError):
        _finish(attempt, to_send, receipt, file.rows, {}, guid, outcome)
        return
    attempt.journal.set_task(receipt, guid)
    task = _guarded(partial(_wait, attempt, guid))
    crash_point("after_upload_before_receipt")
    if isinstance(task, ApiError):
        _finish(attempt, to_send, receipt, file.rows, {}, task, outcome)
        return
    verdict = import_verdict(file.rows, task)
    _finish(attempt, to_send, receipt, file.rows, verdict.refused, 200, outcome, task.status,
            verdict)  # fmt: skip


def _without_channel_ids(attempt: Attempt, to_send: pd.DataFrame, out: SendOutcome) -> pd.DataFrame:
    """Dead-letter the readings mapped by numeric channelId (no import file can carry them)."""
    numeric = to_send["channel_id"].notna().to_numpy()
    if not numeric.any():
        return to_send
    held = to_send.loc[numeric]
    reasons = {
        int(i): CHANNEL_ID_IN_IMPORT.format(source=str(source), channel=int(channel))
        for i, source, channel in zip(
            held["id"], held["source_id"], held["channel_id"], strict=True
        )
    }
    for i in attempt.journal.reject(reasons, attempt.versions):
        out.unsendable[i] = reasons[i]
    return to_send.loc[~numeric].reset_index(drop=True)


def _start(attempt: Attempt, data: bytes, profile: dict[str, Any]) -> str:
    note = "meterbridge delivery"
    auto = attempt.settings.auto_create_channels
    return attempt.client.start_import(data, profile, note=note, auto_create_channels=auto)


def _wait(attempt: Attempt, guid: str) -> Any:
    attempt.client.get_task(guid)
    crash_point("during_task_poll")
    settings = attempt.settings
    return attempt.client.wait_task(
        guid, poll_s=settings.task_poll_s, timeout_s=settings.task_timeout_s
    )


def _guarded(call: Callable[[], Any]) -> Any:
    """Run a request; a whole-request 4xx is returned (the caller refuses the batch)."""
    try:
        return call()
    except ApiError as exc:
        return exc


def _finish(
    attempt: Attempt,
    sent: pd.DataFrame,
    receipt: int,
    rows: np.ndarray[Any, np.dtype[np.int64]],
    refused: dict[int, str],
    answer: ApiError | int,
    outcome: SendOutcome,
    task_status: str | None = None,
    verdict: ImportVerdict | None = None,
) -> None:
    """Write what EnergyCAP said about one request into the journal."""
    if isinstance(answer, ApiError):
        refused = {int(p): str(answer) for p in rows}
        status: int | None = answer.status
    else:
        status = answer
    kept = set(verdict.unconfirmed) if verdict is not None else set()
    ok = rows
    if refused or kept:
        ok = np.asarray([p for p in rows.tolist() if p not in refused and p not in kept], "int64")
    ids = sent["id"].to_numpy(dtype="int64")
    unconfirmed = ids[sorted(kept)].tolist()
    confirmed, targets = _confirmed(sent, ok)
    rejected = {int(ids[p]): reason for p, reason in refused.items()}
    word = task_status or ("confirmed" if not rejected else "partly rejected")
    if not len(ok) and rejected:
        word = task_status or "rejected"
    unaccounted = verdict is not None and not verdict.again  # the answer's counts disagreed
    message = _message(rejected, verdict)
    dead = attempt.journal.finish_batch(
        receipt,
        Outcome(
            status=word,
            http_status=status,
            confirmed=confirmed,
            rejected=rejected,
            targets=targets,
            message=message,
            unconfirmed=unconfirmed,
            unaccounted=unaccounted,
        ),
    )
    outcome.confirmed += len(ok)
    outcome.rejected.update(rejected)
    outcome.rejected.update(dict.fromkeys(dead, unaccounted_reason(message)))
    if unaccounted:
        outcome.deferred.extend(sorted(set(unconfirmed).difference(dead)))
    if verdict is not None and verdict.note and unconfirmed:
        outcome.notes.append(verdict.note)


def _message(rejected: dict[int, str], verdict: ImportVerdict | None) -> str | None:
    """The receipt's message: the first reason, and why readings stayed unconfirmed."""
    said = [next(iter(rejected.values()), None), verdict.note if verdict else None]
    return "; ".join(m for m in said if m) or None


def _confirmed(
    sent: pd.DataFrame, rows: np.ndarray[Any, np.dtype[np.int64]]
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], Targets]:
    """The ids of the readings at positions `rows` of `sent`, and what EnergyCAP now has
    for each: target key, time sent in UTC ns, value, estimated, column by column."""
    names = sent["_target"].to_numpy(dtype=object)[rows]
    if bool(sent["_target"].isna().any()):  # as text, as it always was stored
        names = names.astype(str).astype(object)
    targets = Targets(
        names,
        sent["_at"].to_numpy(dtype="int64")[rows],
        sent["value"].to_numpy(dtype="float64")[rows],
        sent["estimated"].to_numpy(dtype=bool)[rows],
    )
    return sent["id"].to_numpy(dtype="int64")[rows], targets
