"""Scheduled jobs, persisted in SQLite: schedule, next run, last run and outcome.

A job is a saved pull: its `kind` (``verdigris`` or ``sftp``), its
configuration (plain JSON, never a secret), its interval, whether it is
paused, when it runs next and how its last run went. The file lives in the
data folder (``jobs.sqlite3``) so `meterbridge serve`, the GUI and
`meterbridge jobs ...` see the same jobs.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.pulls.gap_notes import GapNotes
from app.core.sqlite_store import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    interval_s INTEGER NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    next_run TEXT NOT NULL,
    last_start TEXT,
    last_end TEXT,
    last_status TEXT,
    last_message TEXT,
    running_until TEXT,
    last_kind TEXT,
    last_gaps TEXT
)
"""
LEASE = timedelta(hours=6)  # a run holds its job this long at most (a crashed run frees it)


@dataclass(frozen=True)
class JobOutcome:
    """How one run went, in words the user reads in `jobs list` and the GUI."""

    ok: bool
    message: str
    readings: int = 0
    partial: bool = False
    # What kind of failure (app.core.error_kinds) for the GUI's plain words; "" none in
    # particular; None not known (the GUI reads the message for one).
    kind: str | None = None
    gaps: GapNotes = field(default_factory=GapNotes)  # readings missing from what it read

    @property
    def status(self) -> str:
        """``ok``, ``partial`` or ``failed``."""
        if not self.ok:
            return "failed"
        return "partial" if self.partial else "ok"


@dataclass(frozen=True)
class Job:
    """A saved, scheduled pull."""

    name: str
    kind: str
    interval: timedelta
    next_run: datetime
    config: dict[str, Any] = field(default_factory=dict)
    paused: bool = False
    last_start: datetime | None = None
    last_end: datetime | None = None
    last_status: str | None = None
    last_message: str | None = None
    last_kind: str | None = None  # None: recorded before kinds were kept (read its message)
    last_gaps: GapNotes = field(default_factory=GapNotes)  # readings the last run found missing


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("job times must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class JobStore(SqliteStore):
    """The jobs table in one SQLite file (WAL, each change committed)."""

    schema = (SCHEMA,)

    def migrate(self, db: sqlite3.Connection) -> None:
        """Add the lease, error-kind and gap columns to a store made before they existed."""
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        if "running_until" not in columns:
            db.execute("ALTER TABLE jobs ADD COLUMN running_until TEXT")
        if "last_kind" not in columns:
            db.execute("ALTER TABLE jobs ADD COLUMN last_kind TEXT")
        if "last_gaps" not in columns:
            db.execute("ALTER TABLE jobs ADD COLUMN last_gaps TEXT")

    def save(
        self,
        name: str,
        kind: str,
        config: dict[str, Any],
        interval: timedelta,
        first_run: datetime,
    ) -> Job:
        """Create or replace a job's definition (its last outcome is kept)."""
        if interval <= timedelta(0):
            raise ValueError(f"job {name!r}: the interval must be positive")
        with self._connect() as db:
            db.execute(
                "INSERT INTO jobs (name, kind, config, interval_s, next_run) VALUES (?,?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET kind=excluded.kind, config=excluded.config, "
                "interval_s=excluded.interval_s, next_run=excluded.next_run",
                (name, kind, json.dumps(config), int(interval.total_seconds()), _iso(first_run)),
            )
        return self.get(name)

    def get(self, name: str) -> Job:
        """The job called `name`.

        Raises:
            KeyError: naming the known jobs.
        """
        for job in self.list():
            if job.name == name:
                return job
        names = ", ".join(j.name for j in self.list()) or "none"
        raise KeyError(f"no job called {name!r} (jobs: {names})")

    def list(self) -> list[Job]:
        """All jobs by name."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT name, kind, config, interval_s, paused, next_run, last_start, last_end,"
                " last_status, last_message, last_kind, last_gaps FROM jobs ORDER BY name"
            ).fetchall()
        return [_job(row) for row in rows]

    def delete(self, name: str) -> None:
        """Forget a job."""
        self.get(name)
        with self._connect() as db:
            db.execute("DELETE FROM jobs WHERE name=?", (name,))

    def set_next_run(self, name: str, next_run: datetime) -> None:
        """Persist the next run."""
        self._update(name, "next_run=?", _iso(next_run))

    def set_paused(self, name: str, paused: bool) -> None:
        """Pause or resume."""
        self.get(name)
        self._update(name, "paused=?", int(paused))

    def record_run(self, name: str, start: datetime, end: datetime, outcome: JobOutcome) -> None:
        """Keep the last run's times and outcome."""
        said = (outcome.status, outcome.message, outcome.kind, json.dumps(outcome.gaps.to_json()))
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET last_start=?, last_end=?, last_status=?, last_message=?,"
                " last_kind=?, last_gaps=? WHERE name=?",
                (_iso(start), _iso(end), *said, name),
            )

    def record_waiting(self, name: str, now: datetime, message: str) -> None:
        """Note that a due job waits (for the network); the last run's times are kept."""
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET last_status='waiting', last_message=?, last_kind='' WHERE name=?",
                (f"{message} since {_iso(now)}", name),
            )

    def claim(self, name: str, now: datetime, lease: timedelta = LEASE) -> bool:
        """Mark the job as running unless another process runs it (atomic)."""
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE jobs SET running_until=? WHERE name=? AND "
                "(running_until IS NULL OR running_until < ?)",
                (_iso(now + lease), name, _iso(now)),
            )
            return cursor.rowcount == 1

    def release(self, name: str) -> None:
        """The run is over."""
        self._update(name, "running_until=?", None)

    def _update(self, name: str, assignment: str, value: Any) -> None:
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET {assignment} WHERE name=?", (value, name))


def _job(row: tuple[Any, ...]) -> Job:
    name, kind, config, interval_s, paused, next_run, start, end, status, message, error, gaps = row
    return Job(
        name=name,
        kind=kind,
        interval=timedelta(seconds=interval_s),
        next_run=datetime.fromisoformat(next_run),
        config=json.loads(config),
        paused=bool(paused),
        last_start=_parse(start),
        last_end=_parse(end),
        last_status=status,
        last_message=message,
        last_kind=error,
        last_gaps=GapNotes.from_json(_json_or_none(gaps)),
    )


def _json_or_none(text: str | None) -> Any:
    """The JSON of a column, None when empty or not JSON (a hand-edited store)."""
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
