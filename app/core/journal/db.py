"""The journal's SQLite file: schema, pragmas, one writer connection, readers.

Durability: WAL mode with ``synchronous=FULL``, so a transaction is on disk
(the WAL fsynced) when ``COMMIT`` returns. All writes go through one
connection guarded by a lock; readers open their own connections, which WAL
lets run beside the writer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core.paths import private_dir, private_file

# 2: the hints table; 3: readings.version; 4: the reading key's index leads with the time;
# 5: so does the targets table's key; 6: readings.unaccounted; 7: the sources table replaces
# the (source, time) index, and the state index leaves confirmed readings out (older files
# are migrated on open: `journal.migrate`)
SCHEMA_VERSION = 7

# Reading states: journaled → sent → confirmed | rejected; held waits for a decision.
PENDING = "pending"
SENT = "sent"
CONFIRMED = "confirmed"
REJECTED = "rejected"
HELD = "held"
STATES: tuple[str, ...] = (PENDING, SENT, CONFIRMED, REJECTED, HELD)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit TEXT,
    time INTEGER NOT NULL,
    interval_s INTEGER NOT NULL,
    value REAL NOT NULL,
    estimated INTEGER NOT NULL,
    note TEXT,
    origin TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    overwrite INTEGER NOT NULL DEFAULT 0,
    batch_id INTEGER,
    reason TEXT,
    accepted_at REAL NOT NULL,
    sent_at REAL,
    done_at REAL,
    version INTEGER NOT NULL DEFAULT 0,
    unaccounted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS held (
    reading_id INTEGER PRIMARY KEY,
    unit TEXT,
    interval_s INTEGER NOT NULL,
    value REAL NOT NULL,
    estimated INTEGER NOT NULL,
    note TEXT,
    origin TEXT,
    accepted_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS targets (
    target TEXT NOT NULL,
    time INTEGER NOT NULL,
    value REAL NOT NULL,
    estimated INTEGER NOT NULL,
    done_at REAL NOT NULL,
    PRIMARY KEY (time, target)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    api TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    http_status INTEGER,
    count INTEGER NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    task_guid TEXT,
    status TEXT NOT NULL DEFAULT 'sent',
    message TEXT
);
CREATE TABLE IF NOT EXISTS hints (
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    quantity TEXT NOT NULL,
    row TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (source, source_id, quantity)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY,
    newest INTEGER NOT NULL,
    readings INTEGER NOT NULL
) WITHOUT ROWID;
"""
# A reading's key (source, source_id, quantity, time) is unique through an index that
# leads with the time: new readings of many channels then land on the index's last
# pages instead of one page per channel (Readings-API pushes over 200 channels: the
# journal's CPU per request fell from 1.0 to 0.35 ms); the targets table's key leads
# with the time for the same reason (delivery confirms 200 channels' readings at once).
# The states a reading waits in each have a partial index, and confirmed readings (most
# of a journal) none: confirming a reading deletes its entry instead of moving it into
# a large section, and queries name one state each (``state = 'pending'``: SQLite uses
# a partial index only when the query's terms imply its WHERE).
INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS readings_key ON readings (time, source_id, quantity, source);
CREATE INDEX IF NOT EXISTS readings_pending ON readings (id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS readings_sent ON readings (batch_id) WHERE state = 'sent';
CREATE INDEX IF NOT EXISTS readings_held ON readings (id) WHERE state = 'held';
CREATE INDEX IF NOT EXISTS readings_rejected ON readings (id) WHERE state = 'rejected';
"""
# The sources table holds each source's newest reading time and how many readings it has
# (every state): accepting adds one row's worth per source and commit (`accept`,
# `all_new`), deleting a reading (pruning) takes it away here, so no path that deletes
# can leave it wrong. It replaced a (source, time) index that every reading paid for.
TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS readings_deleted AFTER DELETE ON readings BEGIN
    UPDATE sources SET readings = readings - 1 WHERE source = old.source;
    DELETE FROM sources WHERE source = old.source AND readings <= 0;
END
"""
_ADD_TO_SOURCES = """
INSERT INTO sources (source, newest, readings) VALUES (?, ?, ?)
ON CONFLICT (source) DO UPDATE SET newest = max(newest, excluded.newest),
    readings = readings + excluded.readings
"""


def add_to_sources(conn: sqlite3.Connection, stored: Iterable[tuple[str, int, int]]) -> None:
    """Count readings just stored into the ``sources`` table, in the caller's transaction.

    Args:
        conn: the writer connection.
        stored: ``(source, newest time (UTC ns), how many)``; the time may be
            that of a reading the source already had (it is then no newer
            than the table's).
    """
    conn.executemany(_ADD_TO_SOURCES, [row for row in stored if row[2]])


# Readings being accepted, keyed in the reading key index's order (time first): staged in
# time order (`accept.rows_of`), they are looked up and stored in that index's order.
TEMP_SCHEMA = """
CREATE TEMP TABLE IF NOT EXISTS incoming (
    req INTEGER, source TEXT, source_id TEXT, quantity TEXT, unit TEXT, time INTEGER,
    interval_s INTEGER, value REAL, estimated INTEGER, note TEXT, origin TEXT,
    rid INTEGER, rstate TEXT, same_value INTEGER, why TEXT,
    UNIQUE (time, source_id, quantity, source) ON CONFLICT REPLACE
);
"""


class JournalError(Exception):
    """The journal file cannot be opened or used; the message names the file."""


def connect(path: Path, *, timeout_s: float = 30.0) -> sqlite3.Connection:
    """Open one connection with the journal's pragmas (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(
        str(path), timeout=timeout_s, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


WRITE_WAIT_S = 30.0  # how long a write waits for another process's write to end
QUICK_POLLS_S = 0.05  # polled every 0.5 ms this long, then every 5 ms


def begin_immediate(conn: sqlite3.Connection, wait_s: float = WRITE_WAIT_S) -> None:
    """``BEGIN IMMEDIATE``, polling briefly while another process writes.

    Several processes write the journal (`serve`: the push commit and
    delivery). SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … 100
    ms between tries, so a write lock held for 20 ms can keep the other
    writer waiting 35 ms or more, which a device waiting for its answer
    sees. Here the lock is tried every 0.5 ms for the first 50 ms, then every
    5 ms, up to `wait_s`; then SQLite's "database is locked" is raised.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    started = time.monotonic()
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                waited = time.monotonic() - started
                if not _busy(exc) or waited >= wait_s:
                    raise
            time.sleep(0.0005 if waited < QUICK_POLLS_S else 0.005)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(wait_s * 1000)}")


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite said another connection holds the lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED and their extended codes
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


class JournalBase:
    """The file, the writer connection and its lock, and short-lived readers.

    The file is created readable by its owner only (0600; SQLite gives its
    -wal and -shm files the same mode), in a folder that is made user-only
    (0700) where the platform has POSIX permissions.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        private_dir(self.path.parent)
        private_file(self.path, create=True)
        try:
            self._conn = connect(self.path)
            self._create_schema()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: the journal cannot be opened ({exc})") from exc
        self._lock = threading.Lock()
        self._mapped_bytes = 0

    def map_in_memory(self, size: int) -> None:
        """Read up to `size` bytes of the file through a memory map, on every connection.

        For the delivery process: another process commits between each of its
        transactions, which empties SQLite's page cache, so every page is read
        again; mapped, a read is no copy and no system call (SQLite maps the
        file read-only: writes still go through the WAL as before).
        """
        self._mapped_bytes = max(int(size), 0)
        self._conn.execute(f"PRAGMA mmap_size = {self._mapped_bytes}")

    def _create_schema(self) -> None:
        """Create the tables once (then only the per-connection TEMP table: no write lock).

        An older file is brought to this schema in one write transaction
        (`migrate.upgrade`), readings, states and ids kept.
        """
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            from app.core.journal.migrate import upgrade

            upgrade(self._conn, SCHEMA, INDEXES, SCHEMA_VERSION, begin_immediate, TRIGGERS)
        self._conn.executescript(TEMP_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The writer connection inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (or rollback)."""
        with self._lock:
            begin_immediate(self._conn)
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A separate read connection (WAL readers never block the writer)."""
        conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
        try:
            if self._mapped_bytes:
                conn.execute(f"PRAGMA mmap_size = {self._mapped_bytes}")
            yield conn
        finally:
            conn.close()

    def get_meta(self, key: str) -> str | None:
        """A value kept in the journal's meta table (None when absent)."""
        with self.reader() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Keep a value in the journal's meta table (durably)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?",
                (key, value, value),
            )

    def used_bytes(self) -> int:
        """Bytes of the file in use (free pages, which SQLite reuses, not counted)."""
        with self.reader() as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0]
            size = conn.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def integrity_check(self) -> str:
        """SQLite's own ``PRAGMA integrity_check`` answer ("ok" when sound)."""
        with self.reader() as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    def close(self) -> None:
        """Close the writer connection (waits for a running write)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> JournalBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def now() -> float:
    """Wall-clock seconds since the epoch (receipts and retention use it)."""
    return time.time()
