"""Accepting readings into the journal: classify against what is there, then store.

For each reading, keyed by ``(source, source_id, quantity, time)``:

* not in the journal → stored pending (**new**);
* pending, held or dead-lettered with another value → its value is replaced
  and it is pending again (**new**: it has not reached EnergyCAP);
* same value, still pending or in flight → **unchanged_pending**;
* same value, confirmed by EnergyCAP → **already_delivered** (nothing is sent);
* another value for a reading sent or confirmed → **changed_held**: kept in the
  ``held`` table for a decision (``--overwrite`` releases it), never sent silently;
* same value, dead-lettered → **already_rejected** (``replay`` resends it);
* another value for a reading sent or confirmed, given with a *supersede*
  reason (a register series re-derived after a late point filled a gap: the
  same source's series made more complete, not a changed value) →
  **superseded**: pending again with the overwrite flag, the reason kept in
  the reading's receipt.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from app.core.journal.db import add_to_sources, now
from connectors.base import READING_COLUMNS, SCHEMA_DTYPES, conform
from connectors.push.common import PointColumns

# A rough size of one stored reading with its index entries, for the size bound.
BYTES_PER_READING = 160
INSERT_CHUNK = 50_000
_SCHEMA_DTYPE_LIST = [SCHEMA_DTYPES[c] for c in READING_COLUMNS]


# What staging one malformed request may raise: it fails that request only.
STAGING_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError, sqlite3.Error)


class JournalFullError(Exception):
    """The journal reached its size bound; nothing of the refused batch was stored."""


@dataclass
class AcceptResult:
    """What happened to the readings of one `accept` call (they add up to its rows)."""

    new: int = 0
    already_delivered: int = 0
    unchanged_pending: int = 0
    changed_held: int = 0
    already_rejected: int = 0
    duplicates: int = 0
    superseded: int = 0
    not_finite: int = 0  # NaN/±inf values refused at the door (never journaled)

    @property
    def total(self) -> int:
        """Rows given to `accept` (every count above adds to it)."""
        return sum(getattr(self, name) for name in self.__dataclass_fields__)

    def add(self, other: AcceptResult) -> None:
        """Add another result's counts to this one."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def describe(self) -> str:
        """One line for the user, e.g. "120 new, 48 already delivered"."""
        parts = [f"{self.new} new"]
        labels = (
            ("already_delivered", "already delivered"),
            ("unchanged_pending", "already waiting to be sent"),
            ("changed_held", "CHANGED after delivery, held for a decision"),
            ("already_rejected", "already rejected (see `meterbridge replay`)"),
            ("duplicates", "repeated within the batch"),
            ("superseded", "re-derived, replacing delivered values"),
            ("not_finite", "refused: not a finite number (never journaled)"),
        )
        parts += [f"{getattr(self, k)} {text}" for k, text in labels if getattr(self, k)]
        return ", ".join(parts)


def time_ns(times: pd.Series) -> np.ndarray[Any, np.dtype[np.int64]]:
    """UTC times as integer nanoseconds since the epoch (the journal's time column)."""
    utc = pd.to_datetime(times, utc=True).astype("datetime64[ns, UTC]")
    naive = utc.dt.tz_localize(None).to_numpy().astype("datetime64[ns]")
    return np.asarray(naive.view("int64"), dtype=np.int64)


def _texts(series: pd.Series) -> list[str | None]:
    """A string column as Python values, missing ones as None (cheap for small batches)."""
    return [v if isinstance(v, str) else None for v in series.tolist()]


def _has_schema(frame: pd.DataFrame) -> bool:
    """True when `frame` already has the reading schema's columns and dtypes."""
    if tuple(frame.columns) != READING_COLUMNS:
        return False
    return bool(frame.dtypes.tolist() == _SCHEMA_DTYPE_LIST)


def rows_of(
    frame: pd.DataFrame | PointColumns, source: str, req: int = 0
) -> Iterator[list[tuple[Any, ...]]]:
    """Tuples for the ``incoming`` table, in chunks (conformed to the reading schema).

    `frame` may also be a push reader's `PointColumns` (plain lists, UTC
    nanosecond times): the listener hands those over as they are, because
    going through pandas cost about 1.5 ms per small batch, more than the
    SQL.

    Raises:
        ValueError: a missing column, naive times, or a reading without a source id.
    """
    if isinstance(frame, PointColumns):
        yield _point_rows(frame, source, req)
        return
    readings = _in_time_order(frame if _has_schema(frame) else conform(frame))
    for start in range(0, len(readings), INSERT_CHUNK):
        whole = len(readings) <= INSERT_CHUNK  # iloc copies
        chunk = readings if whole else readings.iloc[start : start + INSERT_CHUNK]
        ids = _texts(chunk["source_id"])
        if None in ids:
            raise ValueError("a reading has no source_id")
        columns = (
            [req] * len(chunk),
            [source] * len(chunk),
            ids,
            [q if q is not None else "" for q in _texts(chunk["quantity"])],
            _texts(chunk["unit"]),
            pd.DatetimeIndex(chunk["time"]).as_unit("ns").asi8.tolist(),
            chunk["interval_s"].to_numpy(dtype="int64").tolist(),
            chunk["value"].to_numpy(dtype="float64").tolist(),
            chunk["estimated"].to_numpy(dtype="bool").astype("int64").tolist(),
            _texts(chunk["note"]),
            _texts(chunk["origin"]),
        )
        yield list(zip(*columns, strict=True))


def _in_time_order(readings: pd.DataFrame) -> pd.DataFrame:
    """The readings in time order (stable: a repeated reading's last value still wins).

    In the key index's order, a file's rows are found and stored page after
    page, not by walking the whole index once per meter (re-accept 6.1 -> 4.1 s)."""
    times = pd.DatetimeIndex(readings["time"]).asi8
    if len(times) < 2 or bool((times[1:] >= times[:-1]).all()):
        return readings
    return readings.take(np.argsort(times, kind="stable"))


def check_point_columns(columns: PointColumns) -> None:
    """Raise ValueError when `columns` cannot be stored as readings.

    Raises:
        ValueError: a reading without a source id, or columns of different lengths.
    """
    count = len(columns)
    ids = columns.source_id
    if "" in ids or not set(map(type, ids)) <= {str}:  # C-speed checks of every id
        raise ValueError("a reading has no source_id")
    if any(len(f) != count for f in (*reading_fields(columns), columns.note, columns.origin)):
        raise ValueError("point columns of different lengths")


def reading_fields(columns: PointColumns) -> tuple[list[Any], ...]:
    """Source id, quantity, unit, time, interval and value of pushed points.

    The leading fields of a journal row, in the journal's column order; callers
    add the source before them and the flags, note and origin after.
    """
    c = columns
    return (c.source_id, c.quantity, c.unit, c.time_ns, c.interval_s, c.value)


def _point_rows(columns: PointColumns, source: str, req: int) -> list[tuple[Any, ...]]:
    """`rows_of` for `PointColumns` (estimated is always false for pushed points)."""
    check_point_columns(columns)
    count = len(columns)
    return list(
        zip(
            repeat(req, count),
            repeat(source, count),
            *reading_fields(columns),
            repeat(0, count),
            columns.note,
            columns.origin,
            strict=True,
        )
    )


class Staged(NamedTuple):
    """What `stage` put in the staging table for one request."""

    rows: int
    source: str
    newest: int  # the latest reading time (UTC ns), 0 when none


_TIME = itemgetter(5)  # a staged row's time
_INSERT_INCOMING = (
    "INSERT INTO incoming (req, source, source_id, quantity, unit, time, interval_s, value,"
    " estimated, note, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
ROWS_PER_INSERT = 256  # x 11 parameters, under SQLite's 32,766 bound (and old 999 x 3)


@lru_cache(maxsize=64)
def _insert_many_sql(rows: int) -> str:
    """One INSERT of `rows` rows (multi-row VALUES)."""
    values = ",".join(["(?,?,?,?,?,?,?,?,?,?,?)"] * rows)
    return _INSERT_INCOMING.split(" VALUES ")[0] + " VALUES " + values


def insert_rows(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert staged rows with a few multi-row statements, not one step per row.

    `executemany` releases and re-takes the GIL around every row's step; under
    load (the listener's event loop busy on another thread) each re-take can
    wait a whole switch interval, so a group of 1,600 rows took ~250 ms instead
    of ~30. A statement of 256 rows is one step.
    """
    for start in range(0, len(rows), ROWS_PER_INSERT):
        block = rows[start : start + ROWS_PER_INSERT]
        conn.execute(_insert_many_sql(len(block)), list(chain.from_iterable(block)))


_CLASSIFY = """
UPDATE incoming SET rid = r.id, rstate = r.state,
    same_value = (r.value = incoming.value AND r.estimated = incoming.estimated)
FROM readings AS r
WHERE r.source = incoming.source AND r.source_id = incoming.source_id
  AND r.quantity = incoming.quantity AND r.time = incoming.time
"""
_COUNT = (
    "SELECT req, rstate, same_value, why IS NOT NULL, count(*) FROM incoming"
    " GROUP BY req, rstate, same_value, why IS NOT NULL"
)
# New readings go in in the order of the key's index (time first): a file's readings are
# then appended to it, not scattered over it one meter after another.
_STORE_NEW = """
INSERT INTO readings (source, source_id, quantity, unit, time, interval_s, value, estimated,
    note, origin, accepted_at)
SELECT source, source_id, quantity, unit, time, interval_s, value, estimated, note, origin, ?
FROM incoming WHERE rid IS NULL ORDER BY time, source_id, quantity, source
"""
_REPLACE_UNSENT = """
UPDATE readings SET unit = i.unit, interval_s = i.interval_s, value = i.value,
    estimated = i.estimated, note = i.note, origin = i.origin, accepted_at = ?,
    state = 'pending', reason = i.why, overwrite = (i.why IS NOT NULL), batch_id = NULL,
    version = readings.version + 1
FROM incoming AS i
WHERE i.rid = readings.id AND i.same_value = 0 AND i.rstate IN ('pending', 'held', 'rejected')
"""
# Superseding a sent (in-flight) reading clears its batch, so that batch's answer
# no longer settles it (`finish_batch` settles only the readings still in the batch).
_SUPERSEDE = """
UPDATE readings SET unit = i.unit, interval_s = i.interval_s, value = i.value,
    estimated = i.estimated, note = i.note, origin = i.origin, accepted_at = ?,
    state = 'pending', reason = i.why, overwrite = 1, batch_id = NULL,
    version = readings.version + 1
FROM incoming AS i
WHERE i.rid = readings.id AND i.same_value = 0 AND i.why IS NOT NULL
  AND i.rstate IN ('sent', 'confirmed')
"""
_UNHOLD_SUPERSEDED = """
DELETE FROM held WHERE reading_id IN
    (SELECT rid FROM incoming WHERE why IS NOT NULL AND rstate IN ('sent', 'confirmed'))
"""
_HOLD_CHANGED = """
INSERT INTO held (reading_id, unit, interval_s, value, estimated, note, origin, accepted_at)
SELECT rid, unit, interval_s, value, estimated, note, origin, ? FROM incoming
WHERE same_value = 0 AND why IS NULL AND rstate IN ('sent', 'confirmed')
ON CONFLICT (reading_id) DO UPDATE SET unit = excluded.unit, interval_s = excluded.interval_s,
    value = excluded.value, estimated = excluded.estimated, note = excluded.note,
    origin = excluded.origin, accepted_at = excluded.accepted_at
"""
_UNHOLD_SAME = """
DELETE FROM held WHERE reading_id IN
    (SELECT rid FROM incoming WHERE same_value = 1 AND rstate IN ('sent', 'confirmed'))
"""


def stage(
    conn: sqlite3.Connection,
    req: int,
    frame: pd.DataFrame | PointColumns,
    source: str,
    supersede: Mapping[tuple[str, str, int], str] | None = None,
) -> Staged:
    """Put one request's readings into the ``incoming`` table; returns how many, and when.

    A reading already staged by an earlier request of the group is replaced
    (the table's key is ``ON CONFLICT REPLACE``): the last value wins and the
    earlier request counts it as a duplicate (see `settle_staged`).

    Args:
        conn: the writer connection, inside the caller's transaction.
        req: the request's number within the group.
        frame: readings (reading schema).
        source: the source name.
        supersede: ``(source_id, quantity, time_ns)`` → why, for readings that
            replace a delivered value without a decision (see module doc).

    Raises:
        ValueError, TypeError, KeyError, AttributeError, OverflowError,
        sqlite3.Error: the request cannot be staged (the group's staged rows
            are as they were before this request).
    """
    # Each request is staged under its own savepoint: a failure part-way (a
    # malformed frame, a value SQLite cannot bind, any sqlite3 error) undoes this
    # request's rows, including the earlier requests' rows they replaced, and
    # fails this request's caller only.
    conn.execute("SAVEPOINT stage")
    count, newest = 0, 0
    try:
        for chunk in rows_of(frame, source, req):
            insert_rows(conn, chunk)
            count += len(chunk)
            newest = max(newest, max(map(_TIME, chunk), default=0))
        if supersede:
            conn.executemany(
                "UPDATE incoming SET why = ? WHERE req = ? AND source_id = ? AND quantity = ?"
                " AND time = ?",
                [(why, req, sid, qty, int(t)) for (sid, qty, t), why in supersede.items()],
            )
    except STAGING_ERRORS:
        conn.execute("ROLLBACK TO stage")
        conn.execute("RELEASE stage")
        raise
    conn.execute("RELEASE stage")
    return Staged(count, source, newest)


def settle_staged(
    conn: sqlite3.Connection, staged: Mapping[int, Staged]
) -> dict[int, AcceptResult]:
    """Classify and store everything staged (one pass for a whole group); counts per request.

    Args:
        conn: the writer connection, inside the caller's transaction.
        staged: what each request staged (request number → `stage`'s answer).
            A reading repeated within the group keeps its last value; the
            earlier copies (replaced while staging) count as `duplicates` of
            their request.
    """
    results: dict[int, AcceptResult] = defaultdict(AcceptResult)
    conn.execute(_CLASSIFY)
    kept: dict[int, int] = defaultdict(int)
    stored: dict[int, int] = defaultdict(int)  # readings the journal did not have
    for req, state, same_value, why, count in conn.execute(_COUNT).fetchall():
        _count_into(results[int(req)], state, bool(same_value), int(count), bool(why))
        kept[int(req)] += int(count)
        stored[int(req)] += int(count) if state is None else 0
    for req, (count, _, _) in staged.items():
        if count > kept[req]:
            results[req].duplicates += count - kept[req]
    stamp = now()
    conn.execute(_STORE_NEW, (stamp,))
    add_to_sources(conn, [(staged[r].source, staged[r].newest, n) for r, n in stored.items()])
    conn.execute(_REPLACE_UNSENT, (stamp,))
    conn.execute(_SUPERSEDE, (stamp,))
    conn.execute(_UNHOLD_SUPERSEDED)
    conn.execute(_HOLD_CHANGED, (stamp,))
    conn.execute(_UNHOLD_SAME)
    conn.execute("DELETE FROM incoming")
    return dict(results)


def accept_rows(conn: sqlite3.Connection, frame: pd.DataFrame, source: str) -> AcceptResult:
    """Store one request's readings inside the caller's transaction; return its counts."""
    conn.execute("DELETE FROM incoming")
    return settle_staged(conn, {0: stage(conn, 0, frame, source)}).get(0, AcceptResult())


def _count_into(
    result: AcceptResult, state: str | None, same_value: bool, count: int, why: bool = False
) -> None:
    if not same_value and why and state in ("sent", "confirmed"):
        result.superseded += count
    elif state is None or (not same_value and state in ("pending", "held", "rejected")):
        result.new += count
    elif same_value and state in ("pending", "sent", "held"):
        result.unchanged_pending += count
    elif same_value and state == "confirmed":
        result.already_delivered += count
    elif same_value and state == "rejected":
        result.already_rejected += count
    else:
        result.changed_held += count
