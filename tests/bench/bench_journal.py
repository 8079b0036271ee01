"""Benchmark the journal: many small durable accepts (push devices) and one big file.

Run: .venv/bin/python tests/bench/bench_journal.py [--seconds 5] [--threads 32] [--meters 50]

Prints, in the same run:
* group commit: requests/s of 50 readings from many threads, each `accept`
  durable (fsync) before it returns;
* the floor it is compared with: one transaction (one fsync) per request, one thread;
* a year of half-hours for `--meters` meters accepted in one call (readings/s),
  and re-accepting it (the "same file again" path).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.core.journal.accept import accept_rows
from app.core.journal.store import Journal
from connectors.base import make_readings

START = pd.Timestamp("2026-01-01", tz="UTC")


def small_batch(device: int, k: int, size: int = 50) -> pd.DataFrame:
    times = START + pd.to_timedelta(np.arange(size) + k * size, unit="min")
    return make_readings(
        source_id=f"dev{device}", time=times, value=np.arange(size, dtype="float64"), interval_s=60
    )


def group_commit(folder: Path, threads: int, seconds: float) -> float:
    journal = Journal(folder / "group.sqlite3")
    batches = [[small_batch(t, k) for k in range(400)] for t in range(threads)]
    done = [0] * threads
    stop = time.monotonic() + seconds

    def device(t: int) -> None:
        while time.monotonic() < stop and done[t] < len(batches[t]):
            journal.accept(batches[t][done[t]], source=f"dev{t}")
            done[t] += 1

    began, cpu = time.monotonic(), time.process_time()
    workers = [threading.Thread(target=device, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    rate = sum(done) / (time.monotonic() - began)
    cpu_ms = (time.process_time() - cpu) / sum(done) * 1000
    print(
        f"  CPU per durable request of 50 readings: {cpu_ms:.2f} ms "
        f"(≈ {1000 / cpu_ms:,.0f} requests/s per free core)"
    )
    assert journal.counts()["pending"] == sum(done) * 50
    journal.close()
    return rate


def one_commit_each(folder: Path, seconds: float) -> float:
    journal = Journal(folder / "single.sqlite3")
    stop, count = time.monotonic() + seconds, 0
    began = time.monotonic()
    while time.monotonic() < stop:
        with journal.transaction() as conn:
            accept_rows(conn, small_batch(0, count), "dev0")
        count += 1
    return count / (time.monotonic() - began)


def year_of_half_hours(folder: Path, meters: int) -> None:
    times = pd.date_range("2025-01-01 00:30", periods=17520, freq="30min", tz="UTC")
    frame = make_readings(
        source_id=np.repeat([f"MPAN{m:04d}" for m in range(meters)], len(times)),
        time=np.tile(times, meters),
        value=np.random.default_rng(1).random(meters * len(times)),
        interval_s=1800,
    )
    journal = Journal(folder / "year.sqlite3")
    began = time.monotonic()
    result = journal.accept(frame, source="uk-hh")
    first = time.monotonic() - began
    began = time.monotonic()
    again = journal.accept(frame, source="uk-hh")
    second = time.monotonic() - began
    size = (folder / "year.sqlite3").stat().st_size
    print(
        f"year of HH, {meters} meters: {len(frame):,} readings accepted in {first:.1f} s "
        f"({len(frame) / first:,.0f}/s, {result.new:,} new); journal {size / 1e6:.0f} MB"
    )
    print(f"  same file again: {second:.1f} s ({again.unchanged_pending:,} already waiting)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--meters", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        group = group_commit(folder, args.threads, args.seconds)
        floor = one_commit_each(folder, args.seconds)
        print(
            f"group commit, {args.threads} threads: {group:,.0f} requests/s of 50 readings "
            f"({group * 50:,.0f} readings/s), each durable before accept returns"
        )
        print(f"floor, one fsync per request: {floor:,.0f} requests/s ({group / floor:.1f}x)")
        year_of_half_hours(folder, args.meters)


if __name__ == "__main__":
    main()
