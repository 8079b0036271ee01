"""The delivery side of the journal: pending batches, receipts, dead letters, status.

Every change to a reading row adds one to its ``version``: the delivery engine
reads it with the pending readings and marks, settles or rejects a reading
only if its version is still the one it read (a new value accepted meanwhile
wins). An integer, not the wall clock: Windows' clock ticks every 15.6 ms, so
two changes could share a time stamp.

Per reading the journal keeps its receipt: ``accepted_at`` (journaled),
``sent_at`` + ``batch_id`` (sent), ``done_at`` with state ``confirmed`` or
``rejected`` + ``reason``. Per batch it keeps when it was sent, to which API,
the HTTP status, counts, the import task GUID and its final status. Delivered
readings are pruned after the retention period; batch receipts are kept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from app.core.journal.db import REJECTED, now
from app.core.journal.marks import (
    Targets,
    confirm_runs,
    id_runs,
    put_back,
    remember_targets,
    settle_each,
)
from app.core.journal.prune import prune_parts
from app.core.journal.views import JournalViews, source_filter

_PENDING_COLUMNS = (
    "id, source, source_id, quantity, unit, time, interval_s, value, estimated, note, origin,"
    " overwrite, version"
)
DAY_S = 86400.0
FINISH_CHUNK = 1000  # confirmed readings per transaction when a batch is finished
MARK_CHUNK = 1000  # readings marked sent per transaction when a batch is started


class JournalChanged(Exception):
    """Readings got a new value between being read for delivery and being marked sent."""


@dataclass
class Outcome:
    """What EnergyCAP said about one batch, to be written as its receipt."""

    status: str
    http_status: int | None = None
    confirmed: Sequence[int] | np.ndarray[Any, np.dtype[np.int64]] = ()
    rejected: dict[int, str] = field(default_factory=dict)
    targets: Targets | Sequence[tuple[str, int, float, int]] = ()
    message: str | None = None
    unconfirmed: Sequence[int] = ()  # neither confirmed nor refused: back to pending
    unaccounted: bool = False  # ... because the answer did not account for them (counted)


def frame_of(rows: list[tuple[Any, ...]], selected: str = _PENDING_COLUMNS) -> pd.DataFrame:
    """Pending rows as a readings frame with the journal's `id` and `overwrite` columns.

    Built column by column from the rows (one conversion each, no object frame).
    """
    names = [c.strip().split(" ")[-1] for c in selected.split(",")]
    columns = dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {}
    built: dict[str, Any] = {}
    for name in names:
        values = columns.get(name, ())
        if name == "time":
            ns = np.asarray(values, dtype="int64")
            built[name] = pd.to_datetime(ns, unit="ns", utc=True)
        elif name in _KINDS:
            built[name] = np.asarray(values, dtype=_KINDS[name])
        else:
            built[name] = _strings(values)
    return pd.DataFrame(built)


def _strings(values: Sequence[Any]) -> Any:
    """A text column as pandas' arrow-backed strings (built by pyarrow: half the time)."""
    try:
        return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):  # pandas converts
        return pd.array(list(values), dtype="string")


_KINDS: dict[str, Any] = {"id": "int64", "interval_s": "int64", "value": "float64",
                          "estimated": bool, "overwrite": bool, "version": "int64"}  # fmt: skip


class JournalQueue(JournalViews):
    """Operations used by the delivery engine and the status commands."""

    def recover_in_flight(self) -> int:
        """After a crash: readings left `sent` go back to pending (resending is harmless)."""
        with self.transaction() as conn:
            count = conn.execute(
                "UPDATE readings SET state = 'pending', version = version + 1 WHERE state = 'sent'"
            ).rowcount
            conn.execute(
                "UPDATE batches SET status = 'interrupted', finished_at = ? "
                "WHERE status IN ('sent', 'task_started')",
                (now(),),
            )
        return int(count)

    def pending(self, limit: int, after_id: int = 0, *, origins: bool = True) -> pd.DataFrame:
        """Up to `limit` pending readings with ids above `after_id`, oldest first.

        `origins` False leaves out the `origin` column (where each reading was
        read: delivery does not need it, and it is the longest text of a row).
        """
        selected = _PENDING_COLUMNS if origins else _PENDING_COLUMNS.replace(" origin,", "")
        with self.reader() as conn:
            rows = conn.execute(
                f"SELECT {selected} FROM readings WHERE state = 'pending' AND id > ? "
                "ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return frame_of(rows, selected)

    def start_batch(
        self,
        api: str,
        ids: Sequence[int] | np.ndarray[Any, np.dtype[np.int64]],
        versions: Mapping[int, int] | np.ndarray[Any, np.dtype[np.int64]],
    ) -> int:
        """Write a batch receipt and mark its readings sent (before the request goes out).

        `versions`: each reading's version as read (by id, or an array in the order
        of `ids`). The readings are checked and marked by runs of consecutive ids
        (one statement a run, along the table's own id order), `MARK_CHUNK` readings
        a transaction: `serve`'s push commit then never waits for a whole batch.
        None may have changed since it was read: in each part every id must still
        be pending and the versions must add up to those read (a version only ever
        grows and a pending reading is never deleted, so equal sums mean every
        version is the one read). A part that changed puts the parts marked before
        it back to pending and removes the receipt; a crash between parts leaves
        them `sent`, which the next run puts back (`recover_in_flight`).

        Raises:
            JournalChanged: a reading got a new value since it was read (none is left
                marked).
        """
        stamp = now()
        parts = _parts(ids, versions)  # made before the write lock is taken
        batch = 0
        for number, (runs, wanted) in enumerate(parts):
            try:
                with self.transaction() as conn:
                    if not number:
                        batch = _receipt(conn, api, stamp, len(ids))
                    _check(conn, runs, wanted)
                    conn.executemany(
                        "UPDATE readings SET state = 'sent', batch_id = ?, sent_at = ?, "
                        "version = version + 1 WHERE id BETWEEN ? AND ? AND +state = 'pending'",
                        [(batch, stamp, first, last) for first, last in runs],
                    )
            except JournalChanged:
                if number:
                    self._unmark(batch)
                raise
        return batch

    def _unmark(self, batch: int) -> None:
        """Put the readings of a batch not sent back to pending; remove its receipt."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE readings SET state = 'pending', batch_id = NULL, sent_at = NULL, "
                "version = version + 1 WHERE batch_id = ? AND state = 'sent'",
                (batch,),
            )
            conn.execute("DELETE FROM batches WHERE id = ?", (batch,))

    def set_task(self, batch: int, guid: str) -> None:
        """Record the import task GUID of a batch."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE batches SET task_guid = ?, status = 'task_started' WHERE id = ?",
                (guid, batch),
            )

    def finish_batch(self, batch: int, outcome: Outcome) -> list[int]:
        """Commit what EnergyCAP confirmed and rejected, and close the batch receipt.

        Returns the ids dead-lettered because answers did not account for them
        `MAX_UNACCOUNTED` times (`marks.put_back`).

        Confirmed readings (with what EnergyCAP now has) are committed
        `FINISH_CHUNK` at a time, the rest and the receipt with the last part:
        another process writing the journal (`serve`'s push commit) then never
        waits for a whole batch. A crash between parts leaves the others
        `sent`: they go back to pending and are sent again (harmless), or are
        settled without a request when the part committed held their targets
        (what EnergyCAP has: the answer accounted for them; the targets go in
        key order, so a part's targets are not its readings').
        """
        stamp = now()
        # Both in key order: each part then writes the pages of its own span of readings
        # and of targets (keyed by time, then target).
        confirmed = np.sort(np.asarray(outcome.confirmed, dtype=np.int64))
        targets = Targets.of(outcome.targets).in_key_order()
        first = 0
        if len(targets) == len(confirmed):  # each confirmed reading with its target
            while len(confirmed) - first > FINISH_CHUNK:
                with self.transaction() as conn:
                    part = slice(first, first + FINISH_CHUNK)
                    confirm_runs(conn, confirmed[part], stamp, batch)
                    remember_targets(conn, targets.part(part), stamp)
                first += FINISH_CHUNK
        with self.transaction() as conn:
            confirm_runs(conn, confirmed[first:], stamp, batch)
            settle_each(conn, list(outcome.rejected.items()), REJECTED, stamp, batch)
            remember_targets(conn, targets.part(slice(first, None)), stamp)
            dead = put_back(conn, outcome.unconfirmed, batch, stamp, outcome)
            conn.execute(
                "UPDATE batches SET finished_at = ?, http_status = ?, confirmed = ?, "
                "rejected = ?, status = ?, message = ? WHERE id = ?",
                (
                    stamp,
                    outcome.http_status,
                    len(outcome.confirmed),
                    len(outcome.rejected),
                    outcome.status,
                    outcome.message,
                    batch,
                ),
            )
        return dead

    def release_batch(self, batch: int, status: str, message: str) -> None:
        """Put a batch's readings back to pending (EnergyCAP unreachable, key refused)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE readings SET state = 'pending', version = version + 1 "
                "WHERE batch_id = ? AND state = 'sent'",
                (batch,),
            )
            conn.execute(
                "UPDATE batches SET finished_at = ?, status = ?, message = ? WHERE id = ?",
                (now(), status, message, batch),
            )

    def settle(
        self, confirmed: Iterable[int], held: dict[int, str], versions: Mapping[int, int]
    ) -> tuple[int, int]:
        """Settle pending readings without sending: already delivered, or held.

        Readings that got a new value meanwhile are left pending. Returns
        (how many were confirmed, how many held).
        """
        stamp = now()
        with self.transaction() as conn:
            done = conn.executemany(
                "UPDATE readings SET state = 'confirmed', reason = 'already delivered', "
                "done_at = ?, overwrite = 0, version = version + 1 "
                "WHERE id = ? AND state = 'pending' AND version = ?",
                [(stamp, int(i), versions[int(i)]) for i in confirmed],
            ).rowcount
            kept = conn.executemany(
                "UPDATE readings SET state = 'held', reason = ?, version = version + 1 "
                "WHERE id = ? AND state = 'pending' AND version = ?",
                [(reason, int(i), versions[int(i)]) for i, reason in held.items()],
            ).rowcount
        return max(int(done), 0), max(int(kept), 0)

    def reject(self, reasons: dict[int, str], versions: Mapping[int, int]) -> list[int]:
        """Dead-letter pending readings that cannot be sent (e.g. a mapping problem).

        Returns the ids rejected (those that got a new value meanwhile stay pending).
        """
        stamp = now()
        rejected = []
        with self.transaction() as conn:
            for i, reason in reasons.items():
                changed = conn.execute(
                    "UPDATE readings SET state = 'rejected', reason = ?, done_at = ?, "
                    "version = version + 1 "
                    "WHERE id = ? AND state = 'pending' AND version = ?",
                    (reason, stamp, int(i), versions[int(i)]),
                ).rowcount
                if changed:
                    rejected.append(int(i))
        return rejected

    def release_held(self, source: str | None = None) -> int:
        """`--overwrite`: send held changed values after all; returns how many."""
        where, args = source_filter(source)
        with self.transaction() as conn:
            moved = conn.execute(
                "UPDATE readings SET unit = h.unit, interval_s = h.interval_s, value = h.value,"
                " estimated = h.estimated, note = h.note, origin = h.origin, state = 'pending',"
                " overwrite = 1, reason = NULL, version = readings.version + 1"
                " FROM held AS h WHERE h.reading_id = readings.id"
                " AND readings.id IN (SELECT reading_id FROM held)"  # driven by the held table
                f" AND readings.state IN ('confirmed', 'held', 'pending', 'rejected'){where}",
                args,
            ).rowcount
            keep = "r.state = 'sent'" + ("" if source is None else " OR r.source != ?")
            conn.execute(  # each held row's reading looked up by id (never a scan of readings)
                "DELETE FROM held WHERE NOT EXISTS (SELECT 1 FROM readings AS r "
                f"WHERE r.id = held.reading_id AND ({keep}))",
                args,
            )
            flagged = _requeue(conn, "held", source, "overwrite = 1")
        return int(moved) + flagged

    def replay(self, source: str | None = None) -> int:
        """Re-queue dead-lettered readings (after the mapping was fixed); returns how many."""
        with self.transaction() as conn:
            return _requeue(conn, "rejected", source, "done_at = NULL, unaccounted = 0")

    def prune(self, retention_days: float) -> int:
        """Delete confirmed readings older than the retention period; receipts stay.

        Readings with a held change stay; old targets go too. Done in parts of
        at most `PRUNE_CHUNK` rows, each its own short write transaction
        (`journal.prune`). Returns how many readings were deleted.
        """
        cutoff = now() - retention_days * DAY_S
        return sum(readings for readings, _ in prune_parts(self, cutoff))


def _requeue(conn: sqlite3.Connection, state: str, source: str | None, also_set: str) -> int:
    """Put the readings in `state` (of `source`, else all) back in the queue; returns how many.

    `also_set` is one more assignment of the update (``overwrite = 1``, ``done_at = NULL``).
    """
    where, args = source_filter(source)
    return int(
        conn.execute(
            f"UPDATE readings SET state = 'pending', reason = NULL, {also_set}, "
            f"version = version + 1 WHERE state = ?{where}",
            (state, *args),
        ).rowcount
    )


def _parts(
    ids: Sequence[int] | np.ndarray[Any, np.dtype[np.int64]],
    versions: Mapping[int, int] | np.ndarray[Any, np.dtype[np.int64]],
) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    """A batch's ids as parts of at most `MARK_CHUNK` ids: each part's runs of consecutive
    ids and what it must find (how many pending, the sum of their versions as read).

    Raises:
        JournalChanged: an id is given twice (it cannot be marked twice).
    """
    given = np.asarray(ids, dtype=np.int64)
    if isinstance(versions, np.ndarray):
        read = np.asarray(versions, dtype=np.int64)
    else:
        read = np.fromiter(map(versions.__getitem__, given.tolist()), np.int64, len(given))
    order = np.argsort(given, kind="stable")
    given, read = given[order], read[order]
    if len(given) > 1 and not bool((given[1:] > given[:-1]).all()):
        raise JournalChanged("a reading is in the batch twice")
    parts = []
    for start in range(0, max(len(given), 1), MARK_CHUNK):  # none: a receipt all the same
        part = slice(start, start + MARK_CHUNK)
        wanted = (len(given[part]), int(read[part].sum()))
        parts.append((id_runs(given[part]), wanted))
    return parts


def _receipt(conn: sqlite3.Connection, api: str, stamp: float, count: int) -> int:
    """A new batch receipt; returns its id."""
    cursor = conn.execute(
        "INSERT INTO batches (api, started_at, count) VALUES (?, ?, ?)", (api, stamp, count)
    )
    return int(cursor.lastrowid or 0)


def _check(conn: sqlite3.Connection, runs: list[tuple[int, int]], wanted: tuple[int, int]) -> None:
    """Raise `JournalChanged` unless the runs hold `wanted` (pending count, version sum)."""
    found = [0, 0]
    for first, last in runs:  # +state: along the ids, not a state index
        count, total = conn.execute(
            "SELECT count(*), total(version) FROM readings "
            "WHERE id BETWEEN ? AND ? AND +state = 'pending'",
            (first, last),
        ).fetchone()
        found[0] += int(count)
        found[1] += int(total)
    if tuple(found) != wanted:
        raise JournalChanged("readings changed while a batch was prepared")
