"""Two processes writing one journal (`serve`: the push commit and delivery) wait briefly.

How much sooner than SQLite's own busy handler is measured by
tests/bench/bench_listener.py, not here.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from app.core.journal.db import begin_immediate, connect


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
