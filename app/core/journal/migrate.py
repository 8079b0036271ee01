"""Bringing a journal file of an older schema to the current one, keeping every reading.

Schema 1 had no ``hints`` table, 2 no ``readings.version`` column, and up to
3 the reading key was a UNIQUE constraint of the table itself, ordered
(source, source_id, quantity, time). From 4 it is a unique index that leads
with the time (see `db.INDEXES`); from 5 the ``targets`` table's key is
(time, target), not (target, time); 6 adds ``readings.unaccounted``; 7 the
``sources`` table (each source's newest reading time and count, counted here
from the readings once) in place of the (source, time) index, and partial
state indexes that leave confirmed readings out in place of (state, id). A
table's key cannot be changed in place, so such a table is copied into a new
one (ids, states, receipts and versions kept) and the old one dropped, in
one transaction: a crash or power cut meanwhile leaves the old file as it was.

Several processes may open the journal at once (`serve` and its children):
the upgrade takes the write lock first and looks at the file again, so one
process upgrades and the others find it done.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

log = logging.getLogger(__name__)

UPGRADE_WAIT_S = 900.0  # another process may be copying a large journal meanwhile
OLD_INDEXES = ("readings_source_time", "readings_state")  # schema 6 and older
READING_COLUMNS = (
    "id, source, source_id, quantity, unit, time, interval_s, value, estimated, note, origin,"
    " state, overwrite, batch_id, reason, accepted_at, sent_at, done_at, version, unaccounted"
)


def upgrade(
    conn: sqlite3.Connection,
    schema: str,
    indexes: str,
    version: int,
    begin: Callable[[sqlite3.Connection, float], None],
    trigger: str = "",
) -> None:
    """Create what is missing and migrate older tables, then mark the file `version`.

    Args:
        conn: a connection in autocommit mode (no transaction open).
        schema: the ``CREATE TABLE IF NOT EXISTS`` statements of the current schema.
        indexes: the ``CREATE INDEX IF NOT EXISTS`` statements of the current schema.
        version: the schema version the file gets (``PRAGMA user_version``).
        begin: starts the write transaction, waiting up to so many seconds for
            another process's (`db.begin_immediate`).
        trigger: one ``CREATE TRIGGER IF NOT EXISTS`` statement of the current schema.
    """
    begin(conn, UPGRADE_WAIT_S)
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] != version:  # else: done meanwhile
            _statements(conn, schema)
            _add_columns(conn)
            if _has_old_key(conn):
                _rebuild_readings(conn, schema)
            if _has_old_targets_key(conn):
                _rebuild_targets(conn, schema)
            for old in OLD_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {old}")
            _statements(conn, indexes)
            if trigger.strip():
                conn.execute(trigger)
            _count_sources(conn)
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(version),)
            )
            conn.execute(f"PRAGMA user_version = {int(version)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(conn: sqlite3.Connection, script: str) -> None:
    """Run a script's statements one by one (``executescript`` would commit first)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _add_columns(conn: sqlite3.Connection) -> None:
    """Columns of later schemas (version: 3, unaccounted: 6), 0 for every reading there."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(readings)")]
    for name in ("version", "unaccounted"):
        if name not in columns:
            conn.execute(f"ALTER TABLE readings ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0")


def _has_old_key(conn: sqlite3.Connection) -> bool:
    """Whether the readings table still carries its key as a table constraint (schema ≤ 3)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = 'readings' "
        "AND name LIKE 'sqlite_autoindex_readings%'"
    ).fetchone()
    return found is not None


def _rebuild_readings(conn: sqlite3.Connection, schema: str) -> None:
    """Copy the readings into a table of the current shape, ids and all, and swap it in."""
    count = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
    log.warning("upgrading the journal's reading index (%d readings, done once)", count)
    create = next(s for s in schema.split(";") if "TABLE IF NOT EXISTS readings" in s)
    conn.execute(create.replace("IF NOT EXISTS readings", "readings_upgraded"))
    conn.execute(
        f"INSERT INTO readings_upgraded ({READING_COLUMNS}) "
        f"SELECT {READING_COLUMNS} FROM readings ORDER BY id"
    )
    conn.execute("DROP TABLE readings")  # its indexes go with it
    conn.execute("ALTER TABLE readings_upgraded RENAME TO readings")


def _has_old_targets_key(conn: sqlite3.Connection) -> bool:
    """Whether the targets table is keyed (target, time) (schema ≤ 4)."""
    found = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'targets'").fetchone()
    return found is not None and "PRIMARY KEY (target, time)" in " ".join(str(found[0]).split())


def _rebuild_targets(conn: sqlite3.Connection, schema: str) -> None:
    """Copy what EnergyCAP was confirmed to have into a targets table keyed (time, target)."""
    create = next(s for s in schema.split(";") if "TABLE IF NOT EXISTS targets" in s)
    conn.execute(create.replace("IF NOT EXISTS targets", "targets_upgraded"))
    columns = "target, time, value, estimated, done_at"
    conn.execute(f"INSERT INTO targets_upgraded ({columns}) SELECT {columns} FROM targets")
    conn.execute("DROP TABLE targets")
    conn.execute("ALTER TABLE targets_upgraded RENAME TO targets")


def _count_sources(conn: sqlite3.Connection) -> None:
    """Each source's newest reading time and count, from the readings (one pass)."""
    conn.execute("DELETE FROM sources")
    conn.execute(
        "INSERT INTO sources (source, newest, readings) "
        "SELECT source, max(time), count(*) FROM readings GROUP BY source"
    )
