"""Benchmark the generic readings CSV connector on a big long-format file.

Run: .venv/bin/python tests/bench/bench_generic.py [--meters 100] [--days 365]

Writes `meters × days × 48` rows (`meter,time,kwh`, naive local times in
Europe/London, so every clock-change day of the year is placed) to a
temporary file and prints, in the same run:
* the connector: rows/s and peak RSS while reading it batch by batch;
* the floor it is compared with: plain `pandas.read_csv` of the same file
  (pyarrow engine, no parsing of times or values, no checks).
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
from connectors.generic.engine import GenericCsvConnector


def write_file(path: Path, meters: int, days: int) -> int:
    """Write the test file meter by meter; returns the number of rows."""
    # Absolute half-hour steps shown as London wall time: the fall-back day's
    # 01:00 and 01:30 appear twice, in order; the spring-forward hour is absent.
    start = pd.Timestamp("2024-01-01 00:30", tz="Europe/London")
    local = pd.date_range(start, periods=days * 48, freq="30min")
    doubled = local.strftime("%Y-%m-%d %H:%M").to_numpy()
    with path.open("w", encoding="utf-8") as out:
        out.write("meter,time,kwh\n")
        for m in range(meters):
            values = np.round(np.random.default_rng(m).random(len(doubled)), 3)
            frame = pd.DataFrame({"meter": f"M{m:05d}", "time": doubled, "kwh": values})
            frame.to_csv(out, header=False, index=False)
    return meters * len(doubled)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        rows = write_file(path, args.meters, args.days)
        size = path.stat().st_size / 1e6
        print(f"file: {rows:,} rows, {size:.0f} MB")
        start = time.perf_counter()
        read = problems = 0
        options = {"tz": "Europe/London", "interval_s": 1800}
        for batch in GenericCsvConnector().read(Source.from_path(path), options):
            read += len(batch.readings)
            problems += len(batch.problems)
        took = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"generic connector: {read:,} readings, {problems} problems, {took:.1f} s, "
              f"{read / took:,.0f} rows/s, peak RSS {rss:.0f} MB")  # fmt: skip
        start = time.perf_counter()
        frame = pd.read_csv(path, engine="pyarrow", dtype=str)
        took = time.perf_counter() - start
        print(f"floor, pandas.read_csv(pyarrow, strings only): {len(frame):,} rows, {took:.1f} s")


if __name__ == "__main__":
    main()
