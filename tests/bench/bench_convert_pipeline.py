"""Benchmark: the convert pipeline (map + import-file export, streamed) on synthetic readings.

Run: .venv/bin/python tests/bench/bench_convert_pipeline.py [READINGS] [BATCH]
(default 17,520,000 readings = a year of half-hours for 1,000 meters, 500,000 a batch).

Prints readings/s and peak RSS of the pipeline, and for comparison the floor:
pandas `to_csv` of the same batches unmapped (what a naive exporter would cost).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.core.mapping import MappingTable
from app.core.pipeline import RunPlan, convert
from connectors.base import ConnectorInfo, ReadingBatch, Source, conform
from connectors.registry import ConnectorRegistry

YEAR = 17_520


def batches(total: int, size: int) -> Iterator[pd.DataFrame]:
    """Synthetic readings: meter i, half-hours of 2024, random values."""
    rng = np.random.default_rng(1)
    t0 = pd.Timestamp("2024-01-01T00:30Z")
    for start in range(0, total, size):
        idx = np.arange(start, min(start + size, total))
        meters = pd.array((idx // YEAR).astype(str), dtype="string")
        frame = pd.DataFrame(
            {
                "source_id": meters,
                "quantity": "kWh",
                "unit": "kWh",
                "time": t0 + pd.to_timedelta((idx % YEAR) * 1800, unit="s"),
                "interval_s": 1800,
                "value": rng.random(len(idx)) * 10,
                "estimated": False,
                "note": None,
                "origin": None,
            }
        )
        yield conform(frame)


class Synthetic:
    """A connector that yields the synthetic batches."""

    info = ConnectorInfo("synthetic", "Synthetic", "benchmark readings")

    def __init__(self, total: int, size: int) -> None:
        self.total, self.size = total, size

    def sniff(self, head: bytes, name: str) -> float:
        return 1.0

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        for frame in batches(self.total, self.size):
            yield ReadingBatch(frame)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else YEAR * 1000
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 500_000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        marker = folder / "synthetic"
        marker.write_text("x")
        start = time.perf_counter()
        gen_only = sum(len(f) for f in batches(min(total, 2_000_000), size))
        gen_s = (time.perf_counter() - start) * total / gen_only
        registry = ConnectorRegistry([Synthetic(total, size)])
        plan = RunPlan([Source.from_path(marker)], registry, MappingTable())
        start = time.perf_counter()
        result = convert(plan, folder / "out")
        took = time.perf_counter() - start
        print(f"convert pipeline: {result.summary()}")
        print(f"  {took:.1f} s ({total / took:,.0f} readings/s; generating them ~{gen_s:.1f} s)")
        print(f"  peak RSS {peak_mb():.0f} MB, batch {size:,} readings")
        out = folder / "floor.csv"
        start = time.perf_counter()
        with out.open("w") as handle:
            for frame in batches(min(total, 2_000_000), size):
                frame.to_csv(handle, index=False, header=False)
        floor = (time.perf_counter() - start) * total / min(total, 2_000_000)
        print(f"floor (pandas to_csv of the raw batches, extrapolated): {floor:.1f} s")


if __name__ == "__main__":
    main()
