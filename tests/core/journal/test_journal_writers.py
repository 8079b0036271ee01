"""Two processes writing one journal (`serve`: the push commit and delivery) wait briefly.

A write waits for the other's commit; delivery finishes a large batch in parts.

How much sooner than SQLite's own busy handler is measured by
tests/bench/bench_listener.py, not here.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from app.core.journal.db import begin_immediate, connect
from app.core.journal.queue import FINISH_CHUNK, Outcome
from app.core.journal.store import Journal
from connectors.base import make_readings


def test_a_write_waits_for_the_other_writers_commit_then_goes_in(tmp_path: Path) -> None:
    holder, waiter = connect(tmp_path / "j.sqlite3"), connect(tmp_path / "j.sqlite3")
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    released: list[float] = []

    def release() -> None:
        time.sleep(0.03)
        holder.execute("COMMIT")
        released.append(time.perf_counter())

    threading.Thread(target=release).start()
    begin_immediate(waiter)
    started = time.perf_counter()
    waiter.execute("INSERT INTO t VALUES (1)")
    waiter.execute("COMMIT")
    assert released and started >= released[0], "the lock is taken once the other let go"
    assert [row[0] for row in waiter.execute("SELECT x FROM t")] == [1]
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    holder.close()
    waiter.close()


def test_a_write_blocked_beyond_the_wait_says_the_database_is_locked(tmp_path: Path) -> None:
    holder, waiter = connect(tmp_path / "j.sqlite3"), connect(tmp_path / "j.sqlite3")
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        begin_immediate(waiter, wait_s=0.2)
    assert 0.2 <= time.monotonic() - started < 2.0
    holder.execute("ROLLBACK")
    begin_immediate(waiter)  # free again: at once
    waiter.execute("ROLLBACK")
    holder.close()
    waiter.close()


def test_a_large_batch_is_finished_in_parts_and_all_of_it_is_confirmed(tmp_path: Path) -> None:
    """Delivery commits a batch's confirmations a part at a time (the push commit waits for
    one part, not the batch); every reading ends confirmed, with what EnergyCAP now has."""
    journal = Journal(tmp_path / "journal.sqlite3")
    count = FINISH_CHUNK * 2 + 500
    times = pd.date_range("2026-01-01", periods=count, freq="30min", tz="UTC")
    values = [i * 0.5 for i in range(count)]
    journal.accept(
        make_readings(source_id="M1", time=times, value=values, interval_s=1800), source="f"
    )
    pending = journal.pending(100_000)
    ids = pending["id"].tolist()
    batch = journal.start_batch("readings", ids, dict(zip(ids, pending["version"], strict=True)))
    at = pending["time"].astype("int64").tolist()
    targets = [("readings|channel_id=7", t, v, 0) for t, v in zip(at, values, strict=True)]
    journal.finish_batch(batch, Outcome("confirmed", 200, confirmed=ids, targets=targets))
    assert journal.counts()["confirmed"] == count and journal.counts()["sent"] == 0
    (receipt,) = journal.receipts()
    assert (receipt["status"], receipt["confirmed"], receipt["finished_at"] is not None) == (
        "confirmed",
        count,
        True,
    )
    with journal.reader() as conn:
        assert conn.execute("SELECT count(*) FROM targets").fetchone()[0] == count
    journal.close()
