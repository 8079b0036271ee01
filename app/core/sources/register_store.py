"""Durable register series and the interval use derived from them.

Readers mark cumulative register values with a ``…-register`` quantity. The
listener passes every batch through `RegisterStore.derive` before the
journal: the raw points are stored (SQLite, WAL, synchronous=FULL, keyed by
source, source id, quantity and time), and interval use is derived from the
*stored, sorted* series, not from the batch alone. So late, duplicate and
out-of-order batches give the same intervals as in-order ones:

- each batch point t emits the interval ending at t (from the stored point
  before it) and the interval ending at the stored point after it;
- a resend re-emits identical intervals, which the journal counts as already
  delivered / already waiting (nothing is sent twice);
- a late point that falls *inside* an interval derived before (a split)
  emits the new interval ending at it and a corrected, shorter interval at
  the later point. That correction is the same series made more complete,
  not a changed value: it goes to the journal with a *supersede* reason
  (`Derived.supersede`), so it replaces a value already delivered without a
  decision, and the reason stays in the reading's receipt. The split is also
  reported in the push answer and the log, naming both times;
- a device resending a *different* value for a stored time changes the
  intervals on both sides of it: those are changed values, which the journal
  holds for the user's decision (``--overwrite``) if already delivered.

Because the points are committed before the journal, a crash in between
loses nothing: the device gets no 200, resends, and the same intervals are
derived again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from app.core.sqlite_store import SharedSqlite
from connectors.base import conform, empty_readings
from connectors.push.common import iso_of
from connectors.push.registers import (
    Intervals,
    base_quantity,
    difference,
    interval_readings,
    is_register,
    splits,
)

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS register_points (
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    quantity TEXT NOT NULL,
    time INTEGER NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (source, source_id, quantity, time)
) WITHOUT ROWID;
"""


@dataclass
class Derived:
    """What `RegisterStore.derive` made of a batch."""

    readings: pd.DataFrame
    registers_in: int = 0
    intervals: int = 0
    resets: int = 0
    notes: list[str] = field(default_factory=list)
    # (source_id, quantity, time_ns) → why, for intervals re-derived after a split
    supersede: dict[tuple[str, str, int], str] = field(default_factory=dict)


class RegisterStore(SharedSqlite):
    """Register points per source, kept durably, and differencing over them."""

    def __init__(self, path: Path, *, reset_rule: str = "from_zero") -> None:
        self.reset_rule = reset_rule
        super().__init__(path, SCHEMA)

    def prune(self, keep_days: float, now_ns: int | None = None) -> int:
        """Forget register points older than `keep_days`, keeping each series' latest point.

        A late point older than the kept window is then differenced against the
        points still kept (its interval may come out longer; a changed value for
        an interval already delivered is held by the journal, never sent silently).

        Returns:
            How many points were removed.
        """
        now_ns = now_ns if now_ns is not None else time.time_ns()
        cutoff = now_ns - int(keep_days * 86_400 * 1_000_000_000)
        with self._lock:
            cursor = self._conn.execute(
                "DELETE FROM register_points WHERE time < ? AND (source, source_id, quantity, "
                "time) NOT IN (SELECT source, source_id, quantity, max(time) "
                "FROM register_points GROUP BY source, source_id, quantity)",
                (cutoff,),
            )
        return int(cursor.rowcount)

    def derive(
        self,
        frame: pd.DataFrame,
        *,
        source: str,
        raw: bool = False,
        reset_rule: str | None = None,
        raw_sources: frozenset[str] = frozenset(),
    ) -> Derived:
        """Store the batch's register points; return readings with registers as interval use.

        Args:
            frame: readings of one device (reading schema).
            source: the device's journal source name (registers are kept per source).
            raw: send raw register values instead (rows pass through unchanged).
            reset_rule: ``from_zero`` or ``skip`` for this call (default: the store's).
            raw_sources: source ids whose register values pass through unchanged
                (mapping rows with ``register=raw``); they are not stored either.
        """
        kinds = [str(q) for q in frame["quantity"].unique() if is_register(str(q))]
        if raw or not kinds:
            return Derived(readings=frame)
        mask = frame["quantity"].isin(kinds).to_numpy(dtype=bool)
        if raw_sources:
            mask = mask & ~frame["source_id"].isin(list(raw_sources)).to_numpy(dtype=bool)
            if not mask.any():
                return Derived(readings=frame)
        registers = frame[mask]
        derived = Derived(readings=frame, registers_in=len(registers))
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rule = reset_rule or self.reset_rule
                parts = [
                    self._derive_one(source, key, rows, derived, rule)
                    for key, rows in _groups(registers)
                ]
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        frames = [f for f in (frame[~mask], *parts) if len(f)]
        derived.readings = (
            conform(pd.concat(frames, ignore_index=True)) if frames else empty_readings()
        )
        return derived

    def _derive_one(
        self, source: str, key: tuple[str, str], rows: pd.DataFrame, derived: Derived, rule: str
    ) -> pd.DataFrame:
        source_id, quantity = key
        batch = _last_per_time(rows)
        times = batch["t"].to_numpy(dtype="int64")
        before = self._window(source, source_id, quantity, int(times.min()), int(times.max()))
        self._report_changes(source_id, before, batch, derived)
        self._conn.executemany(
            "INSERT INTO register_points VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET value = excluded.value",
            [
                (source, source_id, quantity, int(t), float(v))
                for t, v in zip(times, batch["value"], strict=True)
            ],
        )
        merged = dict(before)
        merged.update(zip(times.tolist(), batch["value"].tolist(), strict=True))
        series_t = np.array(sorted(merged), dtype="int64")
        series_v = np.array([merged[t] for t in series_t.tolist()], dtype="float64")
        intervals = difference(series_t, series_v, reset_rule=rule)
        rows = self._rows(source_id, quantity, intervals, set(times.tolist()), batch, derived)
        _mark_superseding(source_id, quantity, intervals, before, batch, derived)
        return rows

    def _window(
        self, source: str, source_id: str, quantity: str, first: int, last: int
    ) -> dict[int, float]:
        """Stored points from the one before `first` to the one after `last`."""
        key = (source, source_id, quantity)
        low = self._conn.execute(
            "SELECT max(time) FROM register_points WHERE source=? AND source_id=? AND quantity=?"
            " AND time < ?",
            (*key, first),
        ).fetchone()[0]
        high = self._conn.execute(
            "SELECT min(time) FROM register_points WHERE source=? AND source_id=? AND quantity=?"
            " AND time > ?",
            (*key, last),
        ).fetchone()[0]
        rows = self._conn.execute(
            "SELECT time, value FROM register_points WHERE source=? AND source_id=? AND quantity=?"
            " AND time BETWEEN ? AND ?",
            (*key, first if low is None else low, last if high is None else high),
        ).fetchall()
        return {int(t): float(v) for t, v in rows}

    def _report_changes(
        self, source_id: str, before: dict[int, float], batch: pd.DataFrame, derived: Derived
    ) -> None:
        stored = np.array(sorted(before), dtype="int64")
        new_points = [int(t) for t in batch["t"] if int(t) not in before]
        for point, start, end in splits(stored, np.array(new_points, dtype="int64")):
            note = (
                f"{source_id}: late register point at {iso_of(point)} splits the interval "
                f"{iso_of(start)} – {iso_of(end)} derived before; its corrected value replaces "
                "the one derived before (also if already delivered)"
            )
            derived.notes.append(note)
            log.warning(note)
        for t, value in zip(batch["t"], batch["value"], strict=True):
            old = before.get(int(t))
            if old is not None and old != float(value):
                derived.notes.append(
                    f"{source_id}: register value at {iso_of(int(t))} changed {old} → {value}"
                )

    def _rows(
        self,
        source_id: str,
        quantity: str,
        intervals: Intervals,
        batch_times: set[int],
        batch: pd.DataFrame,
        derived: Derived,
    ) -> pd.DataFrame:
        """The intervals the batch touches: ending at a batch point or starting at one."""
        ends = intervals.end_ns
        starts = ends - intervals.interval_s * 1_000_000_000
        keep = np.array(
            [
                int(e) in batch_times or int(s) in batch_times
                for e, s in zip(ends, starts, strict=True)
            ],
            dtype=bool,
        )
        for skipped in intervals.skipped_ns:
            derived.notes.append(
                f"{source_id}: register dropped at {iso_of(skipped)}; interval skipped"
            )
        if not keep.any():
            return empty_readings()
        kept = intervals.subset(keep)
        derived.resets += int(kept.reset.sum())
        derived.intervals += len(kept)
        origins = dict(zip(batch["t"].tolist(), batch["origin"].tolist(), strict=True))
        where = [origins.get(int(e), f"register:{source_id}") for e in kept.end_ns]
        return interval_readings(source_id, quantity, kept, where)


def _mark_superseding(
    source_id: str,
    quantity: str,
    intervals: Intervals,
    before: dict[int, float],
    batch: pd.DataFrame,
    derived: Derived,
) -> None:
    """Record the intervals re-derived because a late point split them.

    Such an interval ends at a point stored before whose value the batch did
    not change, starts at a point the batch brought new, and replaces an
    interval from a stored point before it (so the split's first part is
    derived too). A late point before every kept point (older than the
    pruned window) is not one: its replaced interval stays a changed value.
    """
    sent = dict(zip(batch["t"].tolist(), batch["value"].tolist(), strict=True))
    unit = base_quantity(quantity)
    starts = intervals.end_ns - intervals.interval_s * 1_000_000_000
    for end, start in zip(intervals.end_ns.tolist(), starts.tolist(), strict=True):
        if start in before or end not in before or sent.get(end, before[end]) != before[end]:
            continue
        earlier = max((t for t in before if t < end), default=None)
        if earlier is None:
            continue
        derived.supersede[(source_id, unit, int(end))] = (
            f"superseded: re-derived after a late register point at {iso_of(start)} "
            f"split the interval {iso_of(earlier)} – {iso_of(end)} derived before"
        )


def _groups(registers: pd.DataFrame) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    keys = registers["source_id"].astype(str) + "\x00" + registers["quantity"].astype(str)
    out: list[tuple[tuple[str, str], pd.DataFrame]] = []
    for key, rows in registers.groupby(keys.to_numpy(), sort=False):
        source_id, quantity = str(key).split("\x00", 1)
        out.append(((source_id, quantity), rows))
    return out


def _last_per_time(rows: pd.DataFrame) -> pd.DataFrame:
    """The batch's points of one register, one per time (the last wins), sorted."""
    frame = pd.DataFrame(
        {
            "t": rows["time"].astype("int64").to_numpy(),
            "value": rows["value"].to_numpy(dtype="float64"),
            "origin": rows["origin"].astype(object).to_numpy(),
        }
    )
    return frame.drop_duplicates("t", keep="last").sort_values("t").reset_index(drop=True)
