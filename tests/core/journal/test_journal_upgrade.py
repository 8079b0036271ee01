"""A journal written by an older meterbridge opens, keeps every reading and goes on working."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from app.core.journal.db import SCHEMA_VERSION
from app.core.journal.queue import Outcome
from app.core.journal.store import Journal
from connectors.base import make_readings

# The readings and targets tables as schema 3 (meterbridge up to 7 Dec 2026) created them:
# keyed (source, source_id, quantity, time) by a table constraint, and (target, time).
SCHEMA_3_READINGS = """
CREATE TABLE readings (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, source_id TEXT NOT NULL,
    quantity TEXT NOT NULL, unit TEXT, time INTEGER NOT NULL, interval_s INTEGER NOT NULL,
    value REAL NOT NULL, estimated INTEGER NOT NULL, note TEXT, origin TEXT,
    state TEXT NOT NULL DEFAULT 'pending', overwrite INTEGER NOT NULL DEFAULT 0,
    batch_id INTEGER, reason TEXT, accepted_at REAL NOT NULL, sent_at REAL, done_at REAL,
    version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source, source_id, quantity, time)
);
CREATE INDEX readings_state ON readings (state, id);
CREATE TABLE targets (
    target TEXT NOT NULL, time INTEGER NOT NULL, value REAL NOT NULL,
    estimated INTEGER NOT NULL, done_at REAL NOT NULL,
    PRIMARY KEY (target, time)
) WITHOUT ROWID;
"""
TARGET = "readings|channel_import_id=C1"
HOUR = 3600 * 10**9
T0 = 1_767_225_600 * 10**9  # 2026-01-01T00:00Z


def schema_3_journal(path: Path) -> None:
    """A journal file as schema 3 left it: readings in every state, a held change, a target."""
    Journal(path).close()  # the other tables as they were (unchanged since)
    rows = [  # id, source_id, hour, value, state, version, reason
        (1, "M1", 0, 1.0, "confirmed", 2, None),
        (2, "M1", 1, 2.0, "pending", 0, None),
        (3, "M2", 0, 3.0, "rejected", 1, "no channel M2"),
        (4, "M2", 1, 4.0, "held", 1, "EnergyCAP already has 5.0"),
        (7, "M1", 2, 6.0, "sent", 1, None),
    ]
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE readings")
        conn.execute("DROP TABLE targets")
        conn.executescript(SCHEMA_3_READINGS)
        conn.execute("INSERT INTO targets VALUES (?, ?, 1.0, 0, 2.0)", (TARGET, T0))
        conn.executemany(
            "INSERT INTO readings (id, source, source_id, quantity, unit, time, interval_s,"
            " value, estimated, origin, state, version, reason, batch_id, accepted_at)"
            " VALUES (?, 'f', ?, 'kWh', 'kWh', ?, 3600, ?, 0, 'f.csv:2:3', ?, ?, ?, 9, 1.0)",
            [(i, sid, T0 + h * HOUR, v, st, ver, why) for i, sid, h, v, st, ver, why in rows],
        )
        conn.execute("INSERT INTO held VALUES (1, 'kWh', 3600, 1.5, 0, NULL, 'f.csv:2:3', 2.0)")
        conn.execute(
            "INSERT INTO batches (id, api, started_at, count) VALUES (9, 'readings', 1, 2)"
        )
        conn.execute("PRAGMA user_version = 3")


def readings_of(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT id, source_id, time, value, state, version, reason FROM readings ORDER BY id"
        ).fetchall()


def test_a_schema_3_journal_keeps_its_readings_and_states_and_gets_the_new_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite3"
    schema_3_journal(path)
    before = readings_of(path)
    journal = Journal(path)
    assert readings_of(path) == before  # ids, states, versions and reasons kept
    assert journal.integrity_check() == "ok"
    assert journal.counts() == {"pending": 1, "sent": 1, "confirmed": 1, "rejected": 1,
                                "held": 1, "held_changes": 1}  # fmt: skip
    with sqlite3.connect(path) as conn:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        targets = conn.execute("SELECT target, time, value FROM targets").fetchall()
        targets_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'targets'")
        assert "PRIMARY KEY (time, target)" in targets_sql.fetchone()[0]
    assert targets == [(TARGET, T0, 1.0)]  # what EnergyCAP was confirmed to have, kept
    assert {"readings_key", "readings_pending", "readings_sent"} <= indexes
    assert not {"readings_state", "readings_source_time"} & indexes  # schema 6 and older
    assert not any(name.startswith("sqlite_autoindex_readings") for name in indexes)

    # the key still tells a reading it has from a new one
    times = pd.DatetimeIndex([T0, T0 + HOUR, T0 + 3 * HOUR]).tz_localize("UTC")
    again = make_readings(source_id="M1", time=times, value=[1.0, 2.0, 8.0], interval_s=3600)
    result = journal.accept(again, source="f")
    assert (result.already_delivered, result.unchanged_pending, result.new) == (1, 1, 1)
    assert journal.newest_times() == {"f": pd.Timestamp(T0 + 3 * HOUR, tz="UTC")}

    # and the reading that was in flight is settled by its batch's answer, as before
    journal.finish_batch(9, Outcome(status="confirmed", http_status=200, confirmed=[7]))
    assert readings_of(path)[-2][4] == "confirmed"
    journal.close()


def test_an_upgraded_journal_opened_again_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    schema_3_journal(path)
    first, second = Journal(path), Journal(path)  # the second finds it upgraded
    assert first.counts() == second.counts() and second.integrity_check() == "ok"
    assert readings_of(path)[0] == (1, "M1", T0, 1.0, "confirmed", 2, None)
    first.close()
    second.close()
