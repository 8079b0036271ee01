"""Read-only views of the journal: status per source, dead letters, held readings, receipts.

pandas is imported by the views that return frames, not here: `meterbridge status` reads the
counts without loading it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.core.journal.db import CONFIRMED, HELD, PENDING, REJECTED, SENT, STATES, JournalBase

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

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A reader whose queries all see the journal as one commit left it.

        Counts taken by several queries (the sources table, then each state)
        must not straddle a commit: a reading moving from pending to sent
        between two of them would be counted twice, or not at all.
        """
        with self.reader() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def status(self) -> list[SourceStatus]:
        """Counts per source and state, with the oldest pending reading of each source.

        The readings waiting in a state are counted along that state's partial
        index; confirmed ones are each source's count in the ``sources`` table
        less those (no scan of every reading: the dashboard asks often).
        """
        found: dict[str, SourceStatus] = {}
        with self.snapshot() as conn:
            totals = dict(conn.execute("SELECT source, readings FROM sources").fetchall())
            for state in OPEN_STATES:
                for source, count, at, accepted in conn.execute(_OPEN_BY_SOURCE.format(state)):
                    status = found.setdefault(source, SourceStatus(source))
                    status.counts[state] = int(count)
                    if state in (PENDING, SENT):
                        _oldest_pending(status, int(at), float(accepted))
            for source, total in totals.items():
                status = found.setdefault(source, SourceStatus(source))
                confirmed = int(total) - sum(status.counts.values())
                if confirmed:
                    status.counts[CONFIRMED] = confirmed
            if any(n < 0 for s in found.values() for n in s.counts.values()):
                return self._scanned_status()  # never a wrong count (a file written by hand)
            self._add_held_changes(conn, found)
        return [found[k] for k in sorted(found)]

    def _scanned_status(self) -> list[SourceStatus]:
        """`status` counted over every reading (slow on a large journal)."""
        found: dict[str, SourceStatus] = {}
        with self.snapshot() as conn:
            for source, state, count in conn.execute(
                "SELECT source, state, count(*) FROM readings GROUP BY source, state"
            ):
                found.setdefault(source, SourceStatus(source)).counts[state] = int(count)
            for source, at, accepted in conn.execute(
                "SELECT source, min(time), min(accepted_at) FROM readings "
                "WHERE state IN ('pending', 'sent') GROUP BY source"
            ):
                _oldest_pending(found[source], int(at), float(accepted))
            self._add_held_changes(conn, found)
        return [found[k] for k in sorted(found)]

    @staticmethod
    def _add_held_changes(conn: sqlite3.Connection, found: dict[str, SourceStatus]) -> None:
        for source, count in conn.execute(
            "SELECT r.source, count(*) FROM held h CROSS JOIN readings r ON r.id = h.reading_id "
            "GROUP BY r.source"
        ):
            found.setdefault(source, SourceStatus(source)).held_changes = int(count)

    def newest_times(self) -> dict[str, datetime]:
        """The time (UTC) of the newest reading journaled from each source, whatever its state.

        Read from the ``sources`` table, which every accept keeps (one row a
        source), not from the readings. Pruning old delivered readings leaves
        it as it is; a source whose last reading is pruned is no longer listed.
        """
        found: dict[str, datetime] = {}
        with self.reader() as conn:
            for source, ns in conn.execute(
                "SELECT source, newest FROM sources WHERE readings > 0 ORDER BY source"
            ):
                found[source] = EPOCH + timedelta(microseconds=int(ns) // 1000)
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
            "FROM held h CROSS JOIN readings r ON r.id = h.reading_id "
            f"WHERE 1 = 1{where.replace('source', 'r.source')}"
        )
        with self.reader() as conn:
            rows = conn.execute(
                "SELECT source, source_id, quantity, time, value, origin, reason FROM readings "
                f"INDEXED BY readings_held WHERE state = 'held'{where} UNION ALL {changed} "
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
        """Readings per state over all sources, plus `held_changes`.

        Counted along the partial state indexes; confirmed readings are all
        readings (the ``sources`` table) less those.
        """
        totals = {s: 0 for s in (*STATES, "held_changes")}
        with self.snapshot() as conn:
            for state in OPEN_STATES:
                found = conn.execute(f"SELECT count(*) FROM readings WHERE state = '{state}'")
                totals[state] = int(found.fetchone()[0])
            (kept,) = conn.execute("SELECT total(readings) FROM sources").fetchone()
            totals[CONFIRMED] = int(kept) - sum(totals[s] for s in OPEN_STATES)
            if totals[CONFIRMED] < 0:  # never a wrong count (a file written by hand)
                totals.update(dict.fromkeys(STATES, 0))  # a state without rows counts 0
                rows = conn.execute("SELECT state, count(*) FROM readings GROUP BY state")
                totals.update({str(state): int(count) for state, count in rows})
            totals["held_changes"] = int(conn.execute("SELECT count(*) FROM held").fetchone()[0])
        return totals


# The states a reading waits in, each with its partial index (`db.INDEXES`); the query
# names its state as a literal, else SQLite cannot use that index.
OPEN_STATES = (PENDING, SENT, HELD, REJECTED)
_OPEN_BY_SOURCE = (
    "SELECT source, count(*), min(time), min(accepted_at) FROM readings "
    "WHERE state = '{}' GROUP BY source"
)


def _oldest_pending(status: SourceStatus, at: int, accepted: float) -> None:
    """Keep the older of `status`'s oldest pending reading and this one (time, accepted)."""
    when = EPOCH + timedelta(microseconds=at // 1000)
    if status.oldest_pending is None or when < status.oldest_pending:
        status.oldest_pending = when
    if status.oldest_pending_accepted is None or accepted < status.oldest_pending_accepted:
        status.oldest_pending_accepted = accepted


def source_filter(source: str | None) -> tuple[str, tuple[Any, ...]]:
    return ("", ()) if source is None else (" AND source = ?", (source,))
