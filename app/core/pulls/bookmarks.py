"""Per-channel bookmarks of pulled data: which time spans already arrived.

A channel (``energy verdigris:circuit:123``) keeps a list of covered spans,
merged when they touch. A run asks for the gaps between a start and the last
complete bucket, newest first, and marks each window as it lands: after an
outage the newest data comes first and an interrupted backfill resumes where
it stopped, with nothing pulled twice.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from app.core.sqlite_store import SqliteStore

Span = tuple[datetime, datetime]

SCHEMA = """
CREATE TABLE IF NOT EXISTS spans (
    channel TEXT NOT NULL,
    start_s INTEGER NOT NULL,
    end_s INTEGER NOT NULL,
    PRIMARY KEY (channel, start_s)
)
"""


def _s(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("bookmark times must be timezone-aware")
    return int(moment.timestamp())


def _t(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Bookmarks(SqliteStore):
    """Covered spans per channel in one SQLite file."""

    schema = (SCHEMA,)
    relaxed_sync = True  # losing the last marks to a power cut only means pulling a window again

    def spans(self, channel: str) -> list[Span]:
        """Covered spans of `channel`, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT start_s, end_s FROM spans WHERE channel=? ORDER BY start_s", (channel,)
            ).fetchall()
        return [(_t(a), _t(b)) for a, b in rows]

    def latest(self, channel: str) -> datetime | None:
        """The end of the newest covered span (the classic bookmark), if any."""
        spans = self.spans(channel)
        return spans[-1][1] if spans else None

    def mark(self, channel: str, start: datetime, end: datetime) -> None:
        """Record [start, end) as covered, merging with touching spans."""
        self.mark_many([(channel, start, end)])

    def mark_many(self, spans: list[tuple[str, datetime, datetime]]) -> None:
        """Record several (channel, start, end) spans in one transaction."""
        with self._connect() as db:
            for channel, start, end in spans:
                _merge(db, channel, _s(start), _s(end))

    def gaps(self, channel: str, start: datetime, end: datetime) -> list[Span]:
        """Uncovered parts of [start, end), newest first."""
        out: list[Span] = []
        cursor = end
        for a, b in reversed(self.spans(channel)):
            if b < cursor and max(b, start) < cursor:
                out.append((max(b, start), cursor))
            cursor = min(cursor, a)
            if cursor <= start:
                break
        if cursor > start:
            out.append((start, cursor))
        return out


def _merge(db: sqlite3.Connection, channel: str, lo: int, hi: int) -> None:
    if hi <= lo:
        return
    rows = db.execute(
        "SELECT start_s, end_s FROM spans WHERE channel=? AND end_s>=? AND start_s<=?",
        (channel, lo, hi),
    ).fetchall()
    for a, b in rows:
        lo, hi = min(lo, a), max(hi, b)
    db.execute("DELETE FROM spans WHERE channel=? AND end_s>=? AND start_s<=?", (channel, lo, hi))
    db.execute("INSERT INTO spans VALUES (?,?,?)", (channel, lo, hi))
