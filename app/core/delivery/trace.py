"""What EnergyCAP said about each reading of a batch: confirmed, or rejected and why.

Readings/ESA API: a 200 lists the readings it did not import in
`failedReadings`, per channel; the other readings of the request are
confirmed only when the answer accounts for them: it is the documented
``ReadingResponse``, names every failure it counts (``failedReadingsCount``)
and counts at least the rest as imported (``importedReadingsCount``).
Otherwise the named failures are still refused, and the others are
**unaccounted**: not confirmed, back to pending, not sent again in this run.
Import API: a task that ended well confirms its file (no more
readings than it counted); a failed one names rows of the file (header =
row 1) in its error output, and confirms nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from app.core.energycap.client import FailedChannel, ReadingResult, TaskResult
from app.core.energycap.exporter import ApiBatch
from app.core.energycap.models import ID_KEYS

CODE_KEYS: tuple[str, ...] = ("observationTypeCode", "unitCode")
ROW_IN_ERROR = re.compile(r"\b(?:row|line)\s*#?\s*(\d+)", re.IGNORECASE)


def _equal_ignoring_case(a: Any, b: Any) -> bool:
    """Whether two ids or codes read the same as text, ignoring case and outer spaces."""
    return str(a).strip().casefold() == str(b).strip().casefold()


def _matches(item: dict[str, Any], target: dict[str, Any]) -> bool:
    ids = [k for k in ID_KEYS if k in item and k in target]
    keys = ids + [k for k in CODE_KEYS if k in item and k in target]
    return bool(ids) and all(_equal_ignoring_case(item[k], target[k]) for k in keys)


def _utc_ns(values: list[Any]) -> np.ndarray[Any, np.dtype[np.int64]]:
    times = pd.to_datetime(pd.Series(values, dtype=object), utc=True, errors="coerce")
    ns = times.astype("datetime64[ns, UTC]").dt.tz_localize(None).to_numpy().view("int64")
    return np.asarray(ns, dtype=np.int64)


def readings_rejections(batch: ApiBatch, answer: ReadingResult) -> dict[int, str] | None:
    """Positions (in the mapped frame) EnergyCAP refused in a Readings/ESA answer, with reasons.

    A failed channel without per-reading detail refuses all its readings in the
    request. None when a failure matches nothing sent: what was imported
    cannot then be told, so the answer accounts for none of the request.
    """
    refused: dict[int, str] = {}
    if not answer.failures:
        return refused  # nothing to trace: the sent times need not be parsed back
    offset = 0
    spans = []
    for item in batch.body:
        n = len(item["readings"])
        times = _utc_ns([r["time"] for r in item["readings"]])
        spans.append((item, batch.rows[offset : offset + n], times))
        offset += n
    for failure in answer.failures:
        found = _trace(failure, spans)
        if not found:
            return None
        refused.update(found)
    return refused


def readings_verdict(batch: ApiBatch, answer: ReadingResult) -> ImportVerdict:
    """Sort a Readings/ESA request's positions by what its answer accounts for.

    Refused: the readings EnergyCAP named as failed. Confirmed: the others,
    only when the counts agree (no more failures counted than named, at least
    all the others counted as imported). Otherwise they are `unconfirmed`.
    """
    if not answer.accounted:
        note = f"{answer.note}: none of its {batch.count} readings confirmed, kept pending"
        return ImportVerdict(unconfirmed=batch.rows.tolist(), note=note, again=False)
    refused = readings_rejections(batch, answer)
    if refused is None:
        note = (
            "EnergyCAP named a failed channel or reading that was not in the request: none "
            f"of its {batch.count} readings confirmed, kept pending"
        )
        return ImportVerdict(unconfirmed=batch.rows.tolist(), note=note, again=False)
    rest = batch.count - len(refused)  # every position refused is one of the request's
    if answer.failed > len(refused):
        said = f"EnergyCAP counted {answer.failed} failed readings but named {len(refused)} of them"
    elif answer.imported < rest:
        said = (
            f"EnergyCAP counted {answer.imported} readings imported of the {batch.count} sent "
            f"({answer.failed} failed)"
        )
    else:
        return ImportVerdict(refused=refused)
    others = [p for p in batch.rows.tolist() if p not in refused]
    note = f"{said}: the other {len(others)} readings are unaccounted, not confirmed, kept pending"
    return ImportVerdict(refused=refused, unconfirmed=others, note=note, again=False)


def _trace(failure: FailedChannel, spans: list[Any]) -> dict[int, str]:
    found: dict[int, str] = {}
    items = [(rows, times) for item, rows, times in spans if _matches(item, failure.target)]
    if not items and failure.readings:
        # EnergyCAP may echo the channel by another identifier than the one sent:
        # find the failed readings by time among everything in the request.
        items = [(rows, times) for _, rows, times in spans]
    if not failure.readings:
        reason = _reason(failure, None)
        return {int(p): reason for rows, _ in items for p in rows}
    wanted = _utc_ns([r.get("time") for r in failure.readings])
    for when, reading in zip(wanted, failure.readings, strict=True):
        for rows, times in items:
            hits = np.flatnonzero(times == when)
            if len(hits):
                found[int(rows[hits[0]])] = _reason(failure, reading)
                break
    return found


def _reason(failure: FailedChannel, reading: dict[str, Any] | None) -> str:
    said = [str(x) for x in ((reading or {}).get("error"), failure.error) if x]
    return "; ".join(dict.fromkeys(said)) or "EnergyCAP gave no reason"


@dataclass
class ImportVerdict:
    """What an answer (an ended import task, a Readings/ESA 200) says about its readings.

    Attributes:
        refused: positions EnergyCAP refused, with reasons (dead letters).
        unconfirmed: positions neither confirmed nor refused: they go back to pending.
        note: why readings were kept unconfirmed (for the batch receipt), if any.
        again: the unconfirmed may be sent again in this run (False: the counts
            disagreed, so sending them again now would likely disagree again).
    """

    refused: dict[int, str] = field(default_factory=dict)
    unconfirmed: list[int] = field(default_factory=list)
    note: str | None = None
    again: bool = True


def import_verdict(rows: np.ndarray[Any, np.dtype[np.int64]], task: TaskResult) -> ImportVerdict:
    """Sort a file's positions (file row N = rows[N - 2]) by what its task said.

    A task that succeeded confirms its file. Rows its error output names are
    refused with their line. A task that *Failed* (or was cancelled, or any
    end but "succeeded with errors") confirms nothing: without
    named rows it was a whole-file problem and every reading is refused with
    the task's message; with named rows the others go back to pending (sent
    again without the refused rows). Never more readings are confirmed than
    the task's `currentSuccessCount`: when the counts disagree the readings
    stay pending and the receipt says so.
    """
    all_rows = [int(p) for p in rows]
    if task.succeeded:
        return _counted(all_rows, task, ImportVerdict())
    text = (task.error_output or "").strip()
    verdict = ImportVerdict(refused=_named_rows(rows, task, text))
    rest = [p for p in all_rows if p not in verdict.refused]
    if not verdict.refused:
        said = text or (task.message or "").strip() or "no error output"
        reason = f"import task {task.guid} ended as {task.status!r}: {said}"
        return ImportVerdict(refused=dict.fromkeys(all_rows, reason))
    if rest and not _partly_succeeded(task.status):
        verdict.unconfirmed = rest
        verdict.note = (
            f"task {task.status!r}: {len(rest)} readings it did not name are not confirmed "
            "and go back to pending"
        )
        return verdict
    return _counted(rest, task, verdict)


def _partly_succeeded(status: str) -> bool:
    """'Succeeded with errors' and the like; anything else that did not succeed failed."""
    word = status.casefold()
    return any(w in word for w in ("succe", "complete", "partial")) and not any(
        w in word for w in ("fail", "cancel", "abort")
    )


def _counted(ok: list[int], task: TaskResult, verdict: ImportVerdict) -> ImportVerdict:
    """Confirm `ok` only when the task counted at least that many imported readings
    (a task that gives no count accounts for none)."""
    count = task.success_count
    if not ok or (count is not None and count >= len(ok)):
        return verdict
    verdict.unconfirmed, verdict.again = ok, False
    said = "gave no currentSuccessCount" if count is None else f"counted {count} readings imported"
    verdict.note = (
        f"task {task.status!r} {said}, fewer than the {len(ok)} it did not refuse: "
        "none of them confirmed, kept pending"
    )
    return verdict


def _named_rows(
    rows: np.ndarray[Any, np.dtype[np.int64]], task: TaskResult, text: str
) -> dict[int, str]:
    refused: dict[int, str] = {}
    for line in text.splitlines():
        match = ROW_IN_ERROR.search(line)
        index = int(match.group(1)) - 2 if match else -1
        if 0 <= index < len(rows):
            refused[int(rows[index])] = f"import task {task.guid}: {line.strip()}"
    return refused
