"""Settling a batch's readings (by runs of ids), what EnergyCAP now has, putting back.

A reading that EnergyCAP's answers did not account for (counts that do not
add up, an answer that is not the documented shape) goes back to pending and
is sent again by a later run; `MAX_UNACCOUNTED` such answers in a row and it
is dead-lettered with that reason instead of being sent for ever (``replay``
sends it again, its count reset).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Protocol

import numpy as np
import pandas as pd

MAX_UNACCOUNTED = 5  # answers that did not account for a reading before it is dead-lettered


class Answer(Protocol):
    """What `put_back` needs of a batch's outcome."""

    unaccounted: bool  # the answer did not account for the readings put back
    message: str | None  # what it said, for the dead letter's reason


def put_back(
    conn: sqlite3.Connection, ids: Sequence[int], batch: int, stamp: float, answer: Answer
) -> list[int]:
    """Put a batch's unconfirmed readings back to pending; returns those dead-lettered.

    Only readings still in the batch (`sent`) move: one superseded meanwhile stays as it is.
    """
    wanted = {int(i) for i in ids}
    dead: list[int] = []
    if answer.unaccounted and wanted:
        at_limit = conn.execute(
            "SELECT id FROM readings WHERE batch_id = ? AND state = 'sent' "
            "AND unaccounted + 1 >= ?",
            (batch, MAX_UNACCOUNTED),
        ).fetchall()
        dead = sorted(i for (i,) in at_limit if i in wanted)
        reason = unaccounted_reason(answer.message)
        conn.executemany(
            "UPDATE readings SET state = 'rejected', reason = ?, done_at = ?, "
            "unaccounted = unaccounted + 1, version = version + 1 WHERE id = ? AND batch_id = ?",
            [(reason, stamp, i, batch) for i in dead],
        )
    counted = ", unaccounted = unaccounted + 1" if answer.unaccounted else ""
    conn.executemany(
        f"UPDATE readings SET state = 'pending', version = version + 1{counted} "
        "WHERE id = ? AND batch_id = ? AND state = 'sent'",
        [(i, batch) for i in sorted(wanted.difference(dead))],
    )
    return dead


def unaccounted_reason(message: str | None) -> str:
    """The dead letter's reason for a reading no answer accounted for."""
    return (
        f"EnergyCAP's answers did not account for this reading {MAX_UNACCOUNTED} times "
        f"(last: {message or 'no accounting answer'}); not confirmed and not sent again: "
        "check what EnergyCAP has, then `meterbridge replay`"
    )


def id_runs(ids: Iterable[int] | np.ndarray[Any, Any]) -> list[tuple[int, int]]:
    """The distinct ids as runs of consecutive ids, ``(first, last)`` each, ascending.

    A numpy array is taken as it is (no list made); one already strictly
    ascending (a batch's ids usually are) is not sorted again.
    """
    given = ids if isinstance(ids, np.ndarray) else np.array(list(ids), dtype=np.int64)
    ordered = given.astype(np.int64, copy=False)
    if len(ordered) > 1 and not bool((ordered[1:] > ordered[:-1]).all()):
        ordered = np.unique(ordered)  # a C loop, not one call an id
    if not len(ordered):
        return []
    breaks = np.flatnonzero(np.diff(ordered) != 1)
    firsts = ordered[np.concatenate(([0], breaks + 1))].tolist()
    lasts = ordered[np.concatenate((breaks, [len(ordered) - 1]))].tolist()
    return list(zip(firsts, lasts, strict=True))


@dataclass
class Targets:
    """What EnergyCAP now has for confirmed readings, column by column (one row each).

    Attributes:
        names: the target keys (`delivery.targets.target_keys`), as text.
        times: the times sent, UTC nanoseconds.
        values: the values sent.
        estimated: whether each was sent as estimated.
    """

    names: np.ndarray[Any, np.dtype[np.object_]]
    times: np.ndarray[Any, np.dtype[np.int64]]
    values: np.ndarray[Any, np.dtype[np.float64]]
    estimated: np.ndarray[Any, np.dtype[np.bool_]]

    @classmethod
    def of(cls, rows: Targets | Sequence[tuple[str, int, float, int]]) -> Targets:
        """`rows` as columns (rows given as (target, time, value, estimated) tuples too)."""
        if isinstance(rows, Targets):
            return rows
        names, times, values, estimated = zip(*rows, strict=True) if rows else ((),) * 4
        return cls(
            np.array([str(n) for n in names], dtype=object),
            np.asarray(times, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
            np.asarray(estimated, dtype=bool),
        )

    def __len__(self) -> int:
        return len(self.times)

    def in_key_order(self) -> Targets:
        """The rows in the targets table's key order: time, then target."""
        codes = pd.factorize(self.names, sort=True)[0] if len(self) else self.times
        order = np.lexsort((codes, self.times))
        return self.part(order)

    def part(self, rows: Any) -> Targets:
        """The rows at `rows` (a slice or positions)."""
        return Targets(self.names[rows], self.times[rows], self.values[rows],
                       self.estimated[rows])  # fmt: skip


def confirm_runs(
    conn: sqlite3.Connection, ids: np.ndarray[Any, np.dtype[np.int64]], stamp: float, batch: int
) -> None:
    """Confirm a batch's readings by runs of consecutive ids (not those superseded
    meanwhile: their batch was cleared). One released with ``--overwrite`` keeps the
    reason it was superseded for, in its receipt."""
    conn.executemany(
        "UPDATE readings SET state = 'confirmed', reason = CASE WHEN overwrite = 1 "
        "THEN reason END, done_at = ?, overwrite = 0, version = version + 1 "
        "WHERE id BETWEEN ? AND ? AND batch_id = ?",
        [(stamp, first, last, batch) for first, last in id_runs(ids)],
    )


def settle_each(
    conn: sqlite3.Connection,
    items: list[tuple[int, str]],
    state: str,
    stamp: float,
    batch: int,
) -> None:
    """Settle a batch's readings one by one, each with its reason (not those superseded
    meanwhile: their batch was cleared)."""
    conn.executemany(
        "UPDATE readings SET state = ?, reason = ?, done_at = ?, overwrite = 0, "
        "version = version + 1 WHERE id = ? AND batch_id = ?",
        [(state, why, stamp, int(i), batch) for i, why in items],
    )


def remember_targets(conn: sqlite3.Connection, targets: Targets, stamp: float) -> None:
    """What EnergyCAP now has at each (time, target): a row each, the last value wins."""
    conn.executemany(
        "INSERT INTO targets (target, time, value, estimated, done_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (time, target) DO UPDATE SET value = excluded.value, "
        "estimated = excluded.estimated, done_at = excluded.done_at",
        zip(
            targets.names.tolist(),
            targets.times.tolist(),
            targets.values.tolist(),
            targets.estimated.astype(np.int64).tolist(),
            repeat(stamp),
        ),
    )
