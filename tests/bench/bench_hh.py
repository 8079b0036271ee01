"""Benchmark: UK half-hourly 48-column file → EnergyCAP import files, against two peers.

Generates an Energy-Assets-style file (MPAN, Date, 00:30 … 00:00; values with
three decimals, a few blanks) of N MPANs × D days in a temp folder, then times,
side by side in one run, each in its own process (peak RSS measured per process):

  (a) naive pandas: read_csv, melt, to_datetime, to_csv (the straightforward script)
  (b) pyarrow floor: pyarrow.csv read of the file + write of a table with the same
      number of rows (MPAN, time, value)
  (c) `meterbridge convert FILE -o DIR` (the real CLI, as a subprocess)

and (c) again on a file with a quarter of the MPANs, to show peak memory is flat.

    .venv/bin/python tests/bench/bench_hh.py                 # 1,000 MPANs × 365 days
    .venv/bin/python tests/bench/bench_hh.py --mpans 100     # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

REPO = Path(__file__).resolve().parents[2]
LABELS = [f"{(m // 60) % 24:02d}:{m % 60:02d}" for m in range(30, 1441, 30)]


def generate(path: Path, mpans: int, days: int, seed: int = 7) -> int:
    """Write the benchmark file; return the number of readings it holds."""
    rng = np.random.default_rng(seed)
    dates = np.datetime64("2024-01-01") + np.arange(days)
    day_text = pa.array([np.datetime_as_string(d).replace("-", "/") for d in dates])
    day_text = pc.strftime(pc.strptime(day_text, "%Y/%m/%d", "s"), "%d/%m/%Y")
    filled = 0
    with path.open("wb") as handle:
        handle.write(("MPAN,Date," + ",".join(LABELS) + "\n").encode())
        for first in range(0, mpans, 50):
            count = min(50, mpans - first)
            rows = count * days
            ids = np.repeat(np.arange(first, first + count) + 1_000_000_000_000, days)
            columns = {
                "MPAN": pa.array(ids.astype(str)),
                "Date": pc.take(day_text, np.tile(np.arange(days), count)),
            }
            for label in LABELS:
                values = np.round(rng.gamma(2.0, 1.5, rows), 3)
                values[rng.random(rows) < 0.001] = np.nan  # a few gaps
                if label in ("01:30", "02:00"):  # these end labels do not exist on 31 Mar
                    values[np.tile(dates == np.datetime64("2024-03-31"), count)] = np.nan
                filled += int(np.isfinite(values).sum())
                columns[label] = pa.array(values, from_pandas=True)
            options = pcsv.WriteOptions(include_header=False, quoting_style="none")
            pcsv.write_csv(pa.table(columns), handle, write_options=options)
    return filled


def naive(source: Path, out: Path) -> None:
    """(a) the straightforward pandas script."""
    import pandas as pd

    frame = pd.read_csv(source, dtype={"MPAN": str})
    long = frame.melt(id_vars=["MPAN", "Date"], var_name="label", value_name="value")
    long = long.dropna(subset=["value"])
    long["time"] = pd.to_datetime(long["Date"] + " " + long["label"], format="%d/%m/%Y %H:%M")
    long[["MPAN", "time", "value"]].to_csv(out / "naive.csv", index=False)


def floor(source: Path, out: Path) -> None:
    """(b) pyarrow reading the file and writing a table of the same number of rows."""
    table = pcsv.read_csv(
        source, convert_options=pcsv.ConvertOptions(column_types={"MPAN": pa.string()})
    )
    start = pc.strptime(table["Date"], "%d/%m/%Y", "s")
    parts = []
    for slot, label in enumerate(LABELS):
        end = pc.add(start, pa.scalar(1800 * (slot + 1), pa.duration("s")))
        parts.append(pa.table({"MPAN": table["MPAN"], "time": end, "value": table[label]}))
    long = pa.concat_tables(parts)
    long = long.filter(pc.is_valid(long["value"]))
    pcsv.write_csv(long, out / "floor.csv")


def convert(source: Path, out: Path) -> None:
    """(c) the real CLI."""
    env = dict(os.environ, METERBRIDGE_HOME=str(out / "home"))
    command = [
        str(REPO / ".venv" / "bin" / "meterbridge"),
        "convert",
        str(source),
        "-o",
        str(out / "convert"),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    written = any((out / "convert").glob("*.csv"))
    if done.returncode not in (0, 1) or not written:  # 1: the autumn change day is held back
        raise SystemExit(f"meterbridge convert failed ({done.returncode}): {done.stderr[-2000:]}")


def run_mode(mode: str, source: Path, out: Path) -> None:
    """Run one contender in this process and print its figures as JSON."""
    who = resource.RUSAGE_CHILDREN if mode == "convert" else resource.RUSAGE_SELF
    before = resource.getrusage(who)
    started = time.perf_counter()
    {"naive": naive, "floor": floor, "convert": convert}[mode](source, out)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(who)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    peak_mb = usage.ru_maxrss / 1024
    rows = _count_rows(out, mode)
    figures = {"mode": mode, "seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "rows": rows}
    print(json.dumps(figures))


def _count_rows(out: Path, mode: str) -> int:
    folder = out / "convert" if mode == "convert" else out
    files = [p for p in folder.glob("*.csv")] if mode == "convert" else [out / f"{mode}.csv"]
    total = 0
    for path in files:
        with path.open("rb") as handle:
            total += (
                sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1
            )
    return total


def measure(mode: str, source: Path, work: Path, tag: str = "") -> dict[str, float]:
    """Run a contender in a fresh process and return its figures."""
    out = work / (tag or mode)
    out.mkdir()
    command = [sys.executable, __file__, "--mode", mode, str(source), str(out)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    for path in out.rglob("*.csv"):
        path.unlink()  # keep the disk tidy between contenders
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mpans", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--skip-naive", action="store_true", help="skip (a), the slow one")
    parser.add_argument("--mode", choices=["naive", "floor", "convert"])
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    if args.mode:
        run_mode(args.mode, Path(args.paths[0]), Path(args.paths[1]))
        return
    with tempfile.TemporaryDirectory(prefix="bench-hh-") as folder:
        work = Path(folder)
        big, small = work / "hh-full.csv", work / "hh-quarter.csv"
        readings = generate(big, args.mpans, args.days)
        quarter = generate(small, max(1, args.mpans // 4), args.days)
        size = big.stat().st_size / 1e6
        print(f"file: {args.mpans} MPANs x {args.days} days = {readings:,} readings, {size:.0f} MB")
        print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        results = {}
        modes = ["floor", "convert"] if args.skip_naive else ["naive", "floor", "convert"]
        for mode in modes:
            results[mode] = measure(mode, big, work)
            print(_line(mode, results[mode]), flush=True)
        results["quarter"] = measure("convert", small, work, "quarter")
        print(_line(f"convert on {quarter:,} readings (1/4 MPANs)", results["quarter"]))
        _ratios(results)
        print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def _line(name: str, figures: dict[str, float]) -> str:
    seconds, peak, rows = figures["seconds"], figures["peak_mb"], int(figures["rows"])
    cpu = figures["cpu"]
    return (
        f"{name:>44}: {seconds:7.1f} s (cpu {cpu:6.1f} s)  peak RSS {peak:6.0f} MB  rows {rows:,}"
    )


def _ratios(results: dict[str, dict[str, float]]) -> None:
    ours = results["convert"]["seconds"]
    if "naive" in results:
        faster = results["naive"]["seconds"] / ours
        print(f"convert is {faster:.1f}x faster than the naive pandas script (target >= 10x)")
    slower = ours / results["floor"]["seconds"]
    print(f"convert takes {slower:.2f}x the time of the pyarrow floor (target <= 2x)")
    cpu = {mode: figures["cpu"] for mode, figures in results.items()}
    if "naive" in cpu:  # CPU time does not wait for other people's processes
        print(f"by CPU time: {cpu['naive'] / cpu['convert']:.1f}x less than naive, ", end="")
    print(f"{cpu['convert'] / cpu['floor']:.2f}x the floor's")
    full, quarter = results["convert"]["peak_mb"], results["quarter"]["peak_mb"]
    print(f"peak RSS, full vs 1/4 file: {full:.0f} vs {quarter:.0f} MB (target <= 700 MB, flat)")


if __name__ == "__main__":
    main()
