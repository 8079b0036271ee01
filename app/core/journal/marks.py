"""Marking a batch's readings by runs of ids, and putting unconfirmed ones back.

A reading that EnergyCAP's answers did not account for (counts that do not
add up, an answer that is not the documented shape) goes back to pending and
is sent again by a later run; `MAX_UNACCOUNTED` such answers in a row and it
is dead-lettered with that reason instead of being sent for ever (``replay``
sends it again, its count reset).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

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


def id_runs(ids: Iterable[int]) -> list[tuple[int, int]]:
    """The distinct ids as runs of consecutive ids, ``(first, last)`` each, ascending."""
    ordered = np.unique(np.array(list(ids), dtype=np.int64))  # a C loop, not one call an id
    if not len(ordered):
        return []
    breaks = np.flatnonzero(np.diff(ordered) != 1)
    firsts = ordered[np.concatenate(([0], breaks + 1))].tolist()
    lasts = ordered[np.concatenate((breaks, [len(ordered) - 1]))].tolist()
    return list(zip(firsts, lasts, strict=True))
