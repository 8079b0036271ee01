"""Read-only views of the journal: status per source, dead letters, held readings, receipts.

pandas is imported by the views that return frames, not here: `meterbridge status` reads the
counts without loading it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.core.journal.db import CONFIRMED, HELD, PENDING, REJECTED, SENT, JournalBase

if TYPE_CHECKING:
    import pandas as pd

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class SourceStatus:
    """Counts of one source's readings by state, and its oldest pending reading."""

    source: str
    counts: dict[str, int] = field(default_factory=dict)
    held_changes: int = 0
    oldest_pending: datetime | None = None  # UTC
    oldest_pending_accepted: float | None = None

    def count(self, state: str) -> int:
        """Readings in `state` (0 when none)."""
        return self.counts.get(state, 0)


class JournalViews(JournalBase):
    """What the journal holds, for `meterbridge status`, the GUI and the tests."""

    def status(self) -> list[SourceStatus]:
        """Counts per source and state, with the oldest pending reading of each source."""
        found: dict[str, SourceStatus] = {}
        with self.reader() as conn:
            for source, state, count in conn.execute(
                "SELECT source, state, count(*) FROM readings GROUP BY source, state"
            ):
                found.setdefault(source, SourceStatus(source)).counts[state] = int(count)
            for source, count in conn.execute(
                "SELECT r.source, count(*) FROM held h JOIN readings r ON r.id = h.reading_id "
                "GROUP BY r.source"
            ):
                found[source].held_changes = int(count)
            for source, at, accepted in conn.execute(
                "SELECT source, min(time), min(accepted_at) FROM readings "
                "WHERE state IN ('pending', 'sent') GROUP BY source"
            ):
                found[source].oldest_pending = EPOCH + timedelta(microseconds=int(at) // 1000)
                found[source].oldest_pending_accepted = float(accepted)
        return [found[k] for k in sorted(found)]

    def newest_times(self) -> dict[str, datetime]:
        """The time (UTC) of each source's newest reading, whatever its state.

        Walks the sources along the (source, time) index: two index seeks a
        source instead of a scan of every reading (the dashboard asks often).
        """
        first = "SELECT source FROM readings ORDER BY source LIMIT 1"
        after = "SELECT source FROM readings WHERE source > ? ORDER BY source LIMIT 1"
        newest = "SELECT max(time) FROM readings WHERE source = ?"
        found: dict[str, datetime] = {}
        with self.reader() as conn:
            key = conn.execute(first).fetchone()
            while key is not None:
                (ns,) = conn.execute(newest, key).fetchone()
                found[key[0]] = EPOCH + timedelta(microseconds=int(ns) // 1000)
                key = conn.execute(after, key).fetchone()
        return found

    def dead_letters(self, source: str | None = None, limit: int = 1000) -> pd.DataFrame:
        """Rejected readings with their reasons (the dead-letter list)."""
        import pandas as pd

        where, args = source_filter(source)
        with self.reader() as conn:
            rows = conn.execute(
                "SELECT source, source_id, quantity, time, value, origin, reason, batch_id "
                f"FROM readings WHERE state = 'rejected'{where} ORDER BY id LIMIT ?",
                (*args, limit),
            ).fetchall()
        names = ["source", "source_id", "quantity", "time", "value", "origin", "reason", "batch"]
        frame = pd.DataFrame.from_records(rows, columns=names)
        frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="ns", utc=True)
        return frame

    def readings_by_id(self, ids: Sequence[int]) -> pd.DataFrame:
        """Readings by journal id, with state and reason (for listing a run's refusals)."""
        import pandas as pd

        rows: list[tuple[Any, ...]] = []
        with self.reader() as conn:
            for start in range(0, len(ids), 500):
                chunk = [int(i) for i in ids[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                rows += conn.execute(
                    "SELECT id, source, source_id, quantity, time, value, origin, state, reason "
                    f"FROM readings WHERE id IN ({marks}) ORDER BY id",
                    chunk,
                ).fetchall()
        names = ["id", "source", "source_id", "quantity", "time", "value", "origin", "state"]
        frame = pd.DataFrame.from_records(rows, columns=[*names, "reason"])
        frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="ns", utc=True)
        return frame

    def held_readings(self, source: str | None = None, limit: int = 1000) -> pd.DataFrame:
        """Readings waiting for a decision (`--overwrite`), with why they are held."""
        import pandas as pd

        where, args = source_filter(source)
        changed = (
            "SELECT r.source, r.source_id, r.quantity, r.time, h.value, h.origin, "
            "'changed after delivery: EnergyCAP has ' || r.value || ', the source now says ' "
            "|| h.value || '; use --overwrite to replace it' "
            "FROM held h JOIN readings r ON r.id = h.reading_id "
            f"WHERE 1 = 1{where.replace('source', 'r.source')}"
        )
        with self.reader() as conn:
            rows = conn.execute(
                "SELECT source, source_id, quantity, time, value, origin, reason FROM readings "
                f"WHERE state = 'held'{where} UNION ALL {changed} "
                "ORDER BY time, source, source_id, quantity LIMIT ?",
                (*args, *args, limit),
            ).fetchall()
        names = ["source", "source_id", "quantity", "time", "value", "origin", "reason"]
        frame = pd.DataFrame.from_records(rows, columns=names)
        frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="ns", utc=True)
        return frame

    def reading_receipts(
        self,
        source_id: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        limit: int = 1000,
    ) -> pd.DataFrame:
        """The per-reading receipts of one source id: journaled/sent/done times, state, batch.

        `start`/`end` (timezone-aware, inclusive) narrow the reading times.
        """
        import pandas as pd

        low = -(2**63) if start is None else int(pd.Timestamp(start).tz_convert("UTC").value)
        high = 2**63 - 1 if end is None else int(pd.Timestamp(end).tz_convert("UTC").value)
        with self.reader() as conn:
            rows = conn.execute(
                "SELECT source, source_id, quantity, time, value, state, accepted_at, sent_at,"
                " done_at, batch_id, reason, origin FROM readings WHERE source_id = ?"
                " AND time BETWEEN ? AND ? ORDER BY time, source, quantity LIMIT ?",
                (source_id, low, high, limit),
            ).fetchall()
        names = ["source", "source_id", "quantity", "time", "value", "state", "accepted_at"]
        names += ["sent_at", "done_at", "batch", "reason", "origin"]
        frame = pd.DataFrame.from_records(rows, columns=names)
        frame["time"] = pd.to_datetime(frame["time"].astype("int64"), unit="ns", utc=True)
        for name in ("accepted_at", "sent_at", "done_at"):
            frame[name] = pd.to_datetime(frame[name].astype("float64"), unit="s", utc=True)
        return frame

    def receipts(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest batch receipts, newest first."""
        with self.reader() as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM batches ORDER BY id DESC LIMIT ?", (limit,))
            return [dict(r) for r in rows.fetchall()]

    def pending_count(self) -> int:
        """Readings waiting to be sent (a seek along the state index, not a scan of all)."""
        with self.reader() as conn:
            found = conn.execute("SELECT count(*) FROM readings WHERE state = 'pending'")
            return int(found.fetchone()[0])

    def counts(self) -> dict[str, int]:
        """Readings per state over all sources, plus `held_changes`."""
        with self.reader() as conn:
            totals = {s: 0 for s in (PENDING, SENT, CONFIRMED, REJECTED, HELD)}
            for state, count in conn.execute("SELECT state, count(*) FROM readings GROUP BY 1"):
                totals[state] = int(count)
            totals["held_changes"] = int(conn.execute("SELECT count(*) FROM held").fetchone()[0])
        return totals


def source_filter(source: str | None) -> tuple[str, tuple[Any, ...]]:
    return ("", ()) if source is None else (" AND source = ?", (source,))
