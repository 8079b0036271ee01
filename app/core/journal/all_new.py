"""The journal's fast path for a group whose readings are all new (the steady push case).

A push listener mostly receives readings the journal has never seen. For
those, staging every row in the ``incoming`` table and classifying it against
``readings`` (see `journal_accept`) cost about as much again as storing it.
So a group made only of push readers' `PointColumns`, without supersede marks
and without a key repeated within the group, is first inserted straight into
``readings`` with ``ON CONFLICT DO NOTHING`` under a savepoint. When every
row went in, they are all **new** and that is the whole answer. When any row
met an existing reading (a resend, a late batch), the savepoint is rolled back
and the group takes the general path, so every classification rule (held
changes, dead letters, duplicates) stays exactly as `journal_accept` defines.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain, repeat
from typing import Any

from app.core.journal.accept import (
    ROWS_PER_INSERT,
    AcceptResult,
    check_point_columns,
    reading_fields,
)
from app.core.journal.db import add_to_sources, now
from connectors.push.common import PointColumns

_INSERT_NEW = (
    "INSERT INTO readings (source, source_id, quantity, unit, time, interval_s, value,"
    " estimated, note, origin, accepted_at) VALUES "
)
_ROW = "(?,?,?,?,?,?,?,0,?,?,?)"


@lru_cache(maxsize=64)
def _insert_sql(rows: int) -> str:
    return _INSERT_NEW + ",".join([_ROW] * rows) + " ON CONFLICT DO NOTHING"


def eligible(batches: Sequence[tuple[str, Any, Any]]) -> bool:
    """True when every batch is `PointColumns` without supersede marks and no key repeats.

    Args:
        batches: ``(source, readings, supersede)`` of each request of the group.
    """
    seen: set[tuple[str, str, str, int]] = set()
    count = 0
    for source, readings, supersede in batches:
        if supersede or not isinstance(readings, PointColumns):
            return False
        seen.update(
            zip(
                repeat(source),
                readings.source_id,
                readings.quantity,
                readings.time_ns,
                strict=False,
            )
        )
        count += len(readings)
    return len(seen) == count


def insert_all_new(
    conn: sqlite3.Connection, batches: Sequence[tuple[str, PointColumns]]
) -> list[AcceptResult] | None:
    """Store the batches if every reading is new; else change nothing and return None.

    Args:
        conn: the writer connection, inside the caller's transaction.
        batches: ``(source, columns)`` per request, already checked by `eligible`.

    Raises:
        ValueError, OverflowError, sqlite3.Error: a batch is malformed (nothing
            of the group is stored; the general path then fails that batch only).
    """
    for _, columns in batches:
        check_point_columns(columns)
    stamp = now()
    rows = [
        row
        for source, columns in batches
        for row in zip(
            repeat(source),
            *reading_fields(columns),
            columns.note,
            columns.origin,
            repeat(stamp),
            strict=False,
        )
    ]
    conn.execute("SAVEPOINT all_new")
    inserted = 0
    try:
        for start in range(0, len(rows), ROWS_PER_INSERT):
            block = rows[start : start + ROWS_PER_INSERT]
            cursor = conn.execute(_insert_sql(len(block)), list(chain.from_iterable(block)))
            inserted += cursor.rowcount
            if inserted < start + len(block):
                break  # a reading already there: the general path classifies the group
    except BaseException:  # a value SQLite cannot take: nothing of the group stays
        conn.execute("ROLLBACK TO all_new")
        conn.execute("RELEASE all_new")
        raise
    if inserted < len(rows):
        conn.execute("ROLLBACK TO all_new")
        conn.execute("RELEASE all_new")
        return None
    conn.execute("RELEASE all_new")
    add_to_sources(conn, _per_source(batches))
    return [AcceptResult(new=len(columns)) for _, columns in batches]


def _per_source(batches: Sequence[tuple[str, PointColumns]]) -> list[tuple[str, int, int]]:
    """Each source's newest time and how many readings the batches hold (`db.add_to_sources`)."""
    found: dict[str, tuple[int, int]] = {}
    for source, columns in batches:
        if len(columns):
            newest, count = found.get(source, (-(2**63), 0))
            found[source] = (max(newest, max(columns.time_ns)), count + len(columns))
    return [(source, newest, count) for source, (newest, count) in found.items()]
