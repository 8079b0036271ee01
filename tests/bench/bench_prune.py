"""Benchmark pruning a big journal: how long the write lock is held, and CPU.

Run: .venv/bin/python tests/bench/bench_prune.py [--meters 90] [--old 0.8] [--chunks 1000,5000]

Builds a journal of a year of half-hours for `--meters` meters (17,520
readings each, accepted through the journal), marks a share `--old` of them
confirmed 100 days ago (the rest confirmed yesterday, with some pending and
held), with one target row per confirmed reading, then prunes two copies of
it at the 90-day retention:

* ``single``: the old single statement (one write transaction);
* parts of `--chunks` rows (default `PRUNE_CHUNK`), as `Journal.prune` does.

For each it prints the write transactions, the longest and mean wall time one
held the lock, the total wall time and the pruning thread's CPU, and what a
second writer (`serve`'s push commit: a tiny commit every 20 ms on its own
connection) waited at worst and at p99.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.core.journal.db import begin_immediate, connect
from app.core.journal.prune import PRUNE_CHUNK, prune_parts
from app.core.journal.store import Journal
from connectors.base import make_readings

DAY_S = 86400.0
SINGLE = (
    "DELETE FROM readings WHERE state = 'confirmed' AND done_at < ? "
    "AND id NOT IN (SELECT reading_id FROM held)",
    "DELETE FROM targets WHERE done_at < ?",
)


def build(path: Path, meters: int, old: float) -> None:
    """The big journal: a year of half-hours per meter, mostly delivered long ago."""
    times = pd.date_range("2025-01-01 00:30", periods=17520, freq="30min", tz="UTC")
    journal = Journal(path)
    for first in range(0, meters, 10):  # 10 meters an accept (memory)
        ids = [f"MPAN{m:04d}" for m in range(first, min(first + 10, meters))]
        journal.accept(
            make_readings(
                source_id=np.repeat(ids, len(times)),
                time=np.tile(times, len(ids)),
                value=np.random.default_rng(first).random(len(ids) * len(times)),
                interval_s=1800,
            ),
            source=f"site{first // 30}.csv",
        )
    stamp = time.time()
    with journal.transaction() as conn:
        (top,) = conn.execute("SELECT max(id) FROM readings").fetchone()
        old_below = int(top * old)
        conn.execute(  # random() % 50: about 2% stay pending, the rest confirmed
            "UPDATE readings SET state = CASE WHEN abs(random()) % 50 = 0 THEN 'pending' "
            "ELSE 'confirmed' END, done_at = CASE WHEN id <= ? THEN ? ELSE ? END",
            (old_below, stamp - 100 * DAY_S, stamp - DAY_S),
        )
        conn.execute(  # a held change on every 1,000th reading (kept)
            "INSERT INTO held SELECT id, unit, interval_s, value + 1, estimated, note, origin, "
            "accepted_at FROM readings WHERE id % 1000 = 0 AND state = 'confirmed'"
        )
        conn.execute(
            "INSERT INTO targets SELECT 'T' || source_id, time, value, estimated, done_at "
            "FROM readings WHERE state = 'confirmed'"
        )
    journal.close()


class Holds:
    """Wall time of each write transaction taken through `Journal.transaction`."""

    def __init__(self, journal: Journal) -> None:
        self.ms: list[float] = []
        self._inner = journal.transaction
        journal.transaction = self._timed  # type: ignore[method-assign]

    @contextmanager
    def _timed(self) -> Iterator[sqlite3.Connection]:
        began = time.perf_counter()
        with self._inner() as conn:
            yield conn
        self.ms.append((time.perf_counter() - began) * 1000)


def single_statement(journal: Journal, cutoff: float) -> int:
    """The prune as it was before: every old row in one write transaction."""
    with journal.transaction() as conn:
        count = conn.execute(SINGLE[0], (cutoff,)).rowcount
        conn.execute(SINGLE[1], (cutoff,))
    return int(count)


def other_writer(path: Path, stop: threading.Event, waits: list[float]) -> None:
    """`serve`'s push commit: a tiny durable commit every 20 ms; records each one's wall ms."""
    conn = connect(path)
    while not stop.is_set():
        began = time.perf_counter()
        begin_immediate(conn)
        conn.execute("INSERT INTO meta VALUES ('bench', ?) ON CONFLICT (key) DO UPDATE "
                     "SET value = excluded.value", (str(began),))  # fmt: skip
        conn.execute("COMMIT")
        waits.append((time.perf_counter() - began) * 1000)
        time.sleep(0.02)
    conn.close()


def run(path: Path, how: str, chunk: int) -> None:
    journal = Journal(path)
    holds = Holds(journal)
    stop, waits = threading.Event(), []  # type: ignore[var-annotated]
    writer = threading.Thread(target=other_writer, args=(path, stop, waits))
    writer.start()
    time.sleep(0.2)
    cutoff = time.time() - 90 * DAY_S
    began, cpu = time.perf_counter(), time.thread_time()
    if how == "single":
        deleted = single_statement(journal, cutoff)
    else:
        deleted = sum(readings for readings, _ in prune_parts(journal, cutoff, chunk))
    wall, cpu = time.perf_counter() - began, time.thread_time() - cpu
    stop.set()
    writer.join()
    holds.ms.sort()
    waits.sort()
    print(
        f"{how if how == 'single' else 'parts of ' + how}: {deleted:,} readings deleted in "
        f"{len(holds.ms):,} write transactions; lock held max {holds.ms[-1]:,.1f} ms, "
        f"p99 {holds.ms[int(len(holds.ms) * 0.99)]:,.1f} ms, "
        f"mean {statistics.mean(holds.ms):,.1f} ms; "
        f"wall {wall:.2f} s, CPU {cpu:.2f} s; other writer's commit "
        f"max {waits[-1]:,.1f} ms, p99 {waits[int(len(waits) * 0.99)]:,.1f} ms "
        f"({len(waits)} commits)"
    )
    journal.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=90)
    parser.add_argument("--old", type=float, default=0.8)
    parser.add_argument("--chunks", default=str(PRUNE_CHUNK), help="e.g. 1000,5000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        build(folder / "built.sqlite3", args.meters, args.old)
        size = (folder / "built.sqlite3").stat().st_size
        print(f"built {args.meters * 17520:,} readings ({size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - began:.0f} s")  # fmt: skip
        for how in ("single", *args.chunks.split(",")):
            shutil.copy(folder / "built.sqlite3", folder / "pruned.sqlite3")
            run(folder / "pruned.sqlite3", how, 0 if how == "single" else int(how))


if __name__ == "__main__":
    main()
