"""Benchmark the missing-readings check of row-per-reading files (connectors/series_gaps.py).

Run: .venv/bin/python tests/bench/bench_series_gaps.py [--meters 1000] [--days 365]

Writes `meters × days × 48` half-hours (`meter,time,kwh`, naive London wall
time, so both clock-change days are in it) minus 3 planted gaps a meter (1, 3
and 7 missing readings), reads it with the generic CSV connector batch by
batch as `meterbridge convert` does, and prints in the same run:
* the check: CPU seconds of `GapTracker.add` over every batch plus `gaps()`,
  and the gaps found against the gaps planted;
* what it is compared with: the connector's own read of the same file (CPU s);
* peak RSS of the whole run (`--no-check`: of the connector alone, to compare).

`--irregular` writes meters whose readings come at irregular times instead
(every step a different number of seconds, 1 to 3,599: no interval to infer),
the case where the check must not keep a number a reading: it reports how
many channels it said it could not check, and what it kept at the end.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.base import Source
from connectors.gap_tracker import GapTracker
from connectors.generic.engine import GenericCsvConnector

RUNS = (1, 3, 7)  # readings removed per planted gap


def write_file(path: Path, meters: int, days: int) -> int:
    """Write the file meter by meter with 3 gaps each; returns the number of gaps planted."""
    local = pd.date_range(pd.Timestamp("2024-01-01 00:30", tz="Europe/London"),
                          periods=days * 48, freq="30min")  # fmt: skip
    shown = local.strftime("%Y-%m-%d %H:%M").to_numpy()
    planted = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("meter,time,kwh\n")
        for m in range(meters):
            rng = np.random.default_rng(m)
            keep = np.ones(len(shown), dtype=bool)
            for part, run in enumerate(RUNS):  # one gap in each third of the year
                third = len(shown) // 3
                start = part * third + int(rng.integers(10, third - 20))
                keep[start : start + run] = False
                planted += 1
            values = np.round(rng.random(int(keep.sum())), 3)
            frame = pd.DataFrame({"meter": f"M{m:05d}", "time": shown[keep], "kwh": values})
            frame.to_csv(out, header=False, index=False)
    return planted


def write_irregular(path: Path, meters: int, days: int) -> int:
    """Write meters whose every step differs (1 s to an hour, about 48 a day); returns 0."""
    with path.open("w", encoding="utf-8") as out:
        out.write("meter,time,kwh\n")
        for m in range(meters):
            rng = np.random.default_rng(m)
            steps = rng.permutation(np.arange(1, 3600))  # each step once, then again shuffled
            steps = np.resize(steps, days * 48)
            seconds = np.cumsum(steps.astype("int64"))
            local = pd.Timestamp("2024-01-01 00:30") + pd.to_timedelta(seconds, unit="s")
            local = local[local < pd.Timestamp("2024-01-01") + pd.Timedelta(days=days)]
            shown = local.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
            values = np.round(rng.random(len(shown)), 3)
            pd.DataFrame({"meter": f"M{m:05d}", "time": shown, "kwh": values}).to_csv(
                out, header=False, index=False
            )
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--no-check", action="store_true", help="the connector alone (RSS floor)")
    parser.add_argument("--irregular", action="store_true", help="irregular times: no interval")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "readings.csv"
        write = write_irregular if args.irregular else write_file
        planted = write(path, args.meters, args.days)
        print(f"file: {args.meters} meters x {args.days} days, {path.stat().st_size / 1e6:.0f} MB")
        tracker = GapTracker()
        read = 0
        check_cpu = 0.0
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        options = {"tz": "UTC" if args.irregular else "Europe/London"}
        for batch in GenericCsvConnector().read(Source.from_path(path), options):
            read += len(batch.readings)
            if not args.no_check:
                before = time.process_time()
                tracker.add(batch.readings)
                check_cpu += time.process_time() - before
        before = time.process_time()
        gaps = tracker.gaps()
        check_cpu += time.process_time() - before
        total_cpu = time.process_time() - start_cpu
        wall = time.perf_counter() - start_wall
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"read {read:,} readings: {total_cpu - check_cpu:.1f} s CPU in the connector")
        print(f"gap check: {check_cpu:.2f} s CPU (add over the batches + gaps()); "
              f"{len(gaps):,} gaps found, {planted:,} planted, "
              f"{int(gaps.missing.sum()):,} readings missing "
              f"({0 if args.irregular else args.meters * sum(RUNS):,} removed)")  # fmt: skip
        unchecked = len(getattr(gaps, "unchecked", ()))
        held = getattr(tracker, "held", lambda: -1)()  # -1: this tracker cannot say
        print(f"channels not checked (no interval to infer): {unchecked:,}; "
              f"kept by the tracker at the end: {held:,} numbers")  # fmt: skip
        print(f"whole run: {wall:.1f} s wall, peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
