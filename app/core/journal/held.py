"""Readings held for a decision: list them, send the new values, or keep the delivered ones.

Two kinds of reading wait for the user (see `journal_accept` and `delivery_targets`):

* **changed**: the source sent another value for a reading EnergyCAP already
  has from meterbridge; the new value waits in the ``held`` table, the
  reading keeps the delivered value;
* **differs**: a reading not yet delivered found EnergyCAP holding another
  value for its channel and time (delivered earlier, e.g. by another source
  mapped to the same channel); the reading's state is ``held``.

Both are keyed by the reading's journal id. *Send* (overwrite) queues the new
value with the overwrite flag, like ``deliver --overwrite`` does for all of
them; *discard* keeps what EnergyCAP has: a changed value is dropped (the
source sending it once more asks again), a differing reading is settled as
delivered with the reason in its receipt. Readings in flight (sent, no answer
yet) are left alone until their batch has an answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Any

import pandas as pd

from app.core.journal.db import JournalBase, now

CHANGED = "changed"
DIFFERS = "differs"
HELD_COLUMNS = ("id", "kind", "source", "source_id", "quantity", "time", "delivered", "new",
                "reason", "origin")  # fmt: skip
# delivery.targets.split_settled writes "EnergyCAP already has 12.5 for this channel ..."
_HAS = re.compile(r"EnergyCAP already has (\S+) for")
_CHUNK = 500

# Both parts read only what is held: the held table drives the join (CROSS JOIN keeps it
# the outer loop) and the held readings come from their partial index, not from a walk of
# every reading in time order that the ORDER BY ... LIMIT would otherwise tempt SQLite to.
_LIST = """
SELECT r.id, 'changed', r.source, r.source_id, r.quantity, r.time, r.value, h.value,
    'the source changed this value after it was delivered',
    h.origin
FROM held h CROSS JOIN readings r ON r.id = h.reading_id WHERE r.state != 'sent'{joined}
UNION ALL
SELECT id, 'differs', source, source_id, quantity, time, NULL, value, reason, origin
FROM readings INDEXED BY readings_held WHERE state = 'held'{plain}
ORDER BY 6, 3, 4, 5 LIMIT ?
"""
_RELEASE_CHANGED = """
UPDATE readings SET unit = h.unit, interval_s = h.interval_s, value = h.value,
    estimated = h.estimated, note = h.note, origin = h.origin, state = 'pending',
    overwrite = 1, reason = NULL, batch_id = NULL, version = readings.version + 1
FROM held AS h WHERE h.reading_id = readings.id
    AND readings.state IN ('confirmed', 'held', 'pending', 'rejected') AND readings.id IN ({ids})
"""
_DROP_HELD = """
DELETE FROM held WHERE reading_id IN ({ids})
    AND reading_id IN (SELECT id FROM readings WHERE state != 'sent')
"""
_RELEASE_DIFFERING = """
UPDATE readings SET state = 'pending', overwrite = 1, reason = NULL, version = version + 1
WHERE state = 'held' AND id IN ({ids})
"""
_KEEP_DIFFERING = """
UPDATE readings SET state = 'confirmed', done_at = ?, overwrite = 0, version = version + 1,
    reason = 'kept the value EnergyCAP has; this value (' || value || ') was discarded'
WHERE state = 'held' AND id IN ({ids})
"""


def held_decisions(
    journal: JournalBase, source: str | None = None, limit: int = 10_000
) -> pd.DataFrame:
    """Readings waiting for a decision, oldest first (columns `HELD_COLUMNS`).

    `delivered` is the value EnergyCAP has (NaN when unknown), `new` the
    value waiting, `time` the reading's time (aware UTC).
    """
    args: tuple[str, ...] = () if source is None else (source,)
    if source is None:
        sql = _LIST.format(joined="", plain="")
    else:
        sql = _LIST.format(joined=" AND r.source = ?", plain=" AND source = ?")
    with journal.reader() as conn:
        rows = conn.execute(sql, (*args, *args, int(limit))).fetchall()
    frame = pd.DataFrame.from_records(rows, columns=list(HELD_COLUMNS))
    frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="ns", utc=True)
    stored = frame["delivered"].astype("float64")
    parsed = frame["reason"].map(_delivered_in).astype("float64")
    frame["delivered"] = stored.where(stored.notna(), parsed)
    frame["new"] = frame["new"].astype("float64")
    return frame


def _delivered_in(reason: Any) -> float:
    found = _HAS.search(reason) if isinstance(reason, str) else None
    try:
        return float(found.group(1)) if found else float("nan")
    except ValueError:
        return float("nan")


def held_ids(journal: JournalBase, source: str | None = None) -> list[int]:
    """The ids of every reading waiting for a decision (of one source, if given)."""
    return [int(i) for i in held_decisions(journal, source, limit=2**62)["id"]]


def release_held_ids(journal: JournalBase, ids: Sequence[int]) -> int:
    """Send the new values of these held readings (they replace EnergyCAP's); how many."""
    count = 0
    with journal.transaction() as conn:
        for marks, chunk in _chunks(ids):
            count += conn.execute(_RELEASE_CHANGED.format(ids=marks), chunk).rowcount
            conn.execute(_DROP_HELD.format(ids=marks), chunk)
            count += conn.execute(_RELEASE_DIFFERING.format(ids=marks), chunk).rowcount
    return int(count)


def discard_held_ids(journal: JournalBase, ids: Sequence[int]) -> int:
    """Keep the values EnergyCAP has for these held readings; returns how many were settled."""
    count = 0
    stamp = now()
    with journal.transaction() as conn:
        for marks, chunk in _chunks(ids):
            count += conn.execute(_DROP_HELD.format(ids=marks), chunk).rowcount
            count += conn.execute(_KEEP_DIFFERING.format(ids=marks), (stamp, *chunk)).rowcount
    return int(count)


def local_time(when: pd.Timestamp, zone: tzinfo | None = None) -> datetime:
    """`when` in `zone`, by default this computer's zone (its offset on that day, DST included)."""
    moment: datetime = pd.Timestamp(when).to_pydatetime()
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def _chunks(ids: Sequence[int]) -> Iterator[tuple[str, list[int]]]:
    unique = list(dict.fromkeys(int(i) for i in ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        yield ",".join("?" * len(chunk)), chunk
