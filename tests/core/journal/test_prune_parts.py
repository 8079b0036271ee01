"""Pruning in short transactions: the same rows go as with one statement, a part at a time.

A big journal's prune used to delete every old confirmed reading in one write
transaction, holding the write lock for seconds while `serve`'s push commits
waited. These tests hold the pruning done in parts to the single statement's
result on random journals (states, done times, held changes, targets), check
the counts and status after, and that no transaction deletes more than a part.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.journal import queue as journal_queue
from app.core.journal.prune import PRUNE_CHUNK, prune_parts
from app.core.journal.store import Journal
from connectors.base import make_readings

T0 = 1_767_225_600 * 10**9  # 2026-01-01T00:00Z
HALF_HOUR = 1800 * 10**9
CUTOFF = 1_000_000.0  # epoch seconds: rows done before it are old
STATES = ("pending", "sent", "confirmed", "confirmed", "rejected", "held")
SINGLE_STATEMENT = (  # what prune did before (one transaction)
    "DELETE FROM readings WHERE state = 'confirmed' AND done_at < :cutoff "
    "AND id NOT IN (SELECT reading_id FROM held);"
    "DELETE FROM targets WHERE done_at < :cutoff;"
)

# One reading: its source, state, done time (seconds from the cutoff) and whether it has
# a held change; one target: its done time (seconds from the cutoff).
reading = st.tuples(
    st.sampled_from(["a.csv", "dev", "b.csv"]),
    st.sampled_from(STATES),
    st.sampled_from([-86400.0, -1.0, -0.001, 0.0, 0.001, 5.0, None]),
    st.booleans(),
)
target = st.sampled_from([-100.0, -1.0, 0.0, 1.0, 100.0])


def build(path: Path, readings: list[tuple[str, str, float | None, bool]], targets: list[float]):
    """A journal holding `readings` (accepted, then set to each state) and `targets`."""
    journal = Journal(path)
    for source in sorted({r[0] for r in readings}):
        times = [T0 + i * HALF_HOUR for i, r in enumerate(readings) if r[0] == source]
        journal.accept(
            make_readings(
                source_id=f"M-{source}",
                time=pd.to_datetime(times, utc=True),
                value=[float(i) for i in range(len(times))],
                interval_s=1800,
            ),
            source=source,
        )
    with journal.transaction() as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM readings ORDER BY time")]
        for rid, (_, state, done, held) in zip(ids, readings, strict=True):
            done_at = None if done is None else CUTOFF + done
            conn.execute(
                "UPDATE readings SET state = ?, done_at = ? WHERE id = ?", (state, done_at, rid)
            )
            if held:
                conn.execute(
                    "INSERT INTO held VALUES (?, 'kWh', 1800, 9.0, 0, NULL, 'test', ?)",
                    (rid, CUTOFF),
                )
        conn.executemany(
            "INSERT INTO targets VALUES (?, ?, 1.0, 0, ?)",
            [(f"T{i % 3}", T0 + i * HALF_HOUR, CUTOFF + done) for i, done in enumerate(targets)],
        )
    return journal


def contents(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables pruning touches (or must not touch)."""
    with sqlite3.connect(path) as conn:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("readings", "held", "targets", "sources", "batches")
        }


def pruned_by_single_statement(journal: Journal, copy: Path) -> dict[str, list[tuple]]:
    """The journal's contents after the old single-statement prune, done on a copy."""
    with sqlite3.connect(copy) as target, journal.reader() as source:
        source.backup(target)
    with sqlite3.connect(copy) as conn:
        conn.executescript(SINGLE_STATEMENT.replace(":cutoff", repr(CUTOFF)))
    return contents(copy)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    readings=st.lists(reading, max_size=40),
    targets=st.lists(target, max_size=15),
    chunk=st.integers(1, 7),
)
def test_parts_delete_exactly_what_the_single_statement_deleted(
    tmp_path: Path, readings, targets, chunk: int
) -> None:
    for name in ("journal.sqlite3", "copy.sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"{name}{suffix}").unlink(missing_ok=True)
    journal = build(tmp_path / "journal.sqlite3", readings, targets)
    try:
        expected = pruned_by_single_statement(journal, tmp_path / "copy.sqlite3")
        parts = list(prune_parts(journal, CUTOFF, chunk))
        assert contents(journal.path) == expected
        old = [r for r in readings if r[1] == "confirmed" and r[2] is not None and r[2] < 0]
        assert sum(p[0] for p in parts) == sum(1 for r in old if not r[3])
        assert sum(p[1] for p in parts) == sum(1 for t in targets if t < 0)
        assert all(max(p) <= chunk for p in parts)
        assert journal.status() == list(journal._scanned_status())  # counts kept exact
    finally:
        journal.close()


def test_prune_keeps_its_callers_contract_count_and_status(tmp_path: Path, monkeypatch) -> None:
    """`Journal.prune(days)` returns the readings deleted; counts and sources follow."""
    rows = [("a.csv", "confirmed", -5.0, False)] * 2500 + [("a.csv", "confirmed", -5.0, True)]
    rows += [("dev", "pending", None, False), ("dev", "confirmed", 10.0, False)]
    rows += [("b.csv", "confirmed", -1.0, False)] * 3
    journal = build(tmp_path / "journal.sqlite3", rows, [-1.0, 1.0])
    monkeypatch.setattr(journal_queue, "now", lambda: CUTOFF + 90 * 86400)
    assert journal.prune(90) == 2503
    counts = journal.counts()
    assert (counts["confirmed"], counts["pending"], counts["held_changes"]) == (2, 1, 1)
    assert sorted(journal.newest_times()) == ["a.csv", "dev"]  # b.csv: all pruned
    assert journal.status() == list(journal._scanned_status())
    assert journal.prune(90) == 0
    journal.close()


def test_no_prune_transaction_deletes_more_than_a_part(tmp_path: Path) -> None:
    """Counted by SQLite itself: the rows each committed transaction changed."""
    rows = [("a.csv", "confirmed", -5.0, False)] * (2 * PRUNE_CHUNK + 10)
    rows += [("a.csv", "pending", None, False)] * 5
    journal = build(tmp_path / "journal.sqlite3", rows, [-1.0] * 30)
    changed_by_commit: list[int] = []
    at_begin = [0]

    def traced(sql: str) -> None:
        if sql.startswith("BEGIN"):
            at_begin[0] = journal._conn.total_changes
        elif sql.startswith("COMMIT"):
            changed_by_commit.append(journal._conn.total_changes - at_begin[0])

    journal._conn.set_trace_callback(traced)
    deleted = sum(p[0] for p in prune_parts(journal, CUTOFF))
    journal._conn.set_trace_callback(None)
    assert deleted == 2 * PRUNE_CHUNK + 10
    # each reading deleted is one change and one more by the trigger (its source's count)
    assert len(changed_by_commit) == 4  # 1,000 + 1,000 + 10 readings, then the 30 targets
    assert max(changed_by_commit) <= 2 * PRUNE_CHUNK
    assert changed_by_commit == [2 * PRUNE_CHUNK, 2 * PRUNE_CHUNK, 2 * 10, 30]
    assert journal.counts()["pending"] == 5
    journal.close()
