"""Pruning delivered readings in short write transactions.

Which readings go is found by a reader (outside the write lock: WAL readers
never block a writer), walking the table along its ids a slice at a time;
each slice of at most `PRUNE_CHUNK` readings is then deleted in its own write
transaction, by runs of consecutive ids, each row checked again (still
confirmed before the cutoff, no held change). `serve`'s push commit then
waits for one slice at most, never for a scan of every reading (schema 7 has
no index that finds confirmed readings or their `done_at`). Old ``targets``
rows go the same way, walked along their key. A reading deleted takes itself
out of the ``sources`` counts (the ``readings_deleted`` trigger).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import numpy as np

from app.core.journal.db import JournalBase
from app.core.journal.marks import id_runs

PRUNE_CHUNK = 1000  # rows deleted per write transaction at most

# Rows after the last id seen, along the rowid (no state index holds confirmed readings).
_OLD_READINGS = (
    "SELECT id FROM readings WHERE id > ? AND state = 'confirmed' AND done_at < ? "
    "AND NOT EXISTS (SELECT 1 FROM held WHERE held.reading_id = readings.id) "
    "ORDER BY id LIMIT ?"
)
_DELETE_READINGS = (
    "DELETE FROM readings WHERE id BETWEEN ? AND ? AND +state = 'confirmed' AND done_at < ? "
    "AND NOT EXISTS (SELECT 1 FROM held WHERE held.reading_id = readings.id)"
)
_OLD_TARGETS = (
    "SELECT time, target FROM targets WHERE (time, target) > (?, ?) AND done_at < ? "
    "ORDER BY time, target LIMIT ?"
)
# The span of keys a reader found: a target written since has a done time of now, past the
# cutoff, so only those found go (one range, not a statement a key: a quarter of the CPU).
_DELETE_TARGETS = (
    "DELETE FROM targets WHERE (time, target) BETWEEN (?, ?) AND (?, ?) AND done_at < ?"
)


def prune_parts(
    journal: JournalBase, cutoff: float, chunk: int = PRUNE_CHUNK
) -> Iterator[tuple[int, int]]:
    """Delete confirmed readings and targets done before `cutoff`, a part at a time.

    The same rows as one ``DELETE … WHERE state = 'confirmed' AND done_at <
    cutoff`` (readings with a held change kept) and ``DELETE FROM targets
    WHERE done_at < cutoff``, but each part in its own transaction.

    Args:
        journal: the journal (its writer and a reader).
        cutoff: epoch seconds; rows done earlier go.
        chunk: rows deleted per transaction at most.

    Yields:
        ``(readings, targets)`` deleted by each committed transaction.
    """
    with journal.reader() as reader:
        after = -(2**63)
        while ids := [row[0] for row in reader.execute(_OLD_READINGS, (after, cutoff, chunk))]:
            after = ids[-1]
            runs = id_runs(np.asarray(ids, dtype=np.int64))
            with journal.transaction() as conn:
                deleted = _deleted(conn, _DELETE_READINGS, [(a, b, cutoff) for a, b in runs])
            yield deleted, 0  # committed: the caller's code never runs under the lock
        key: tuple[int, str] = (-(2**63), "")
        while keys := reader.execute(_OLD_TARGETS, (*key, cutoff, chunk)).fetchall():
            key = keys[-1]
            with journal.transaction() as conn:
                deleted = _deleted(conn, _DELETE_TARGETS, [(*keys[0], *keys[-1], cutoff)])
            yield 0, deleted


def _deleted(conn: sqlite3.Connection, sql: str, rows: list[tuple[object, ...]]) -> int:
    """Rows deleted by `sql` run for each of `rows` (triggers' changes not counted)."""
    return max(int(conn.executemany(sql, rows).rowcount), 0)
