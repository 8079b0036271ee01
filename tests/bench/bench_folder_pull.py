"""Benchmark: a watched folder of many small files, first run and a run with nothing new.

Run: .venv/bin/python tests/bench/bench_folder_pull.py [FILES]   (default 500 files)

Each file is a small generic CSV (24 readings). Readings go to a counting
submitter (no journal, no EnergyCAP: this measures the folder poller). Prints
the first run (every file read, converted, remembered), a second run (nothing
new: one memory query for the whole folder) and, as the floor, a bare
`os.scandir` + `stat` of the folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from app.core.connector_catalog import build_registry
from app.core.mapping import MappingTable
from app.core.pulls.folder import FolderConfig, poll_folder
from app.core.pulls.sftp.state import FileMemory
from app.core.pulls.submit import Submitter
from app.core.report import DeliveryResult


def fill(folder: Path, files: int) -> None:
    old = time.time() - 3600
    for n in range(files):
        rows = [f"M{n % 50},2026-11-01T{h:02d}:30:00Z,{h + n / 1000}" for h in range(24)]
        path = folder / f"export-{n:05d}.csv"
        path.write_text("source_id,time,value\n" + "\n".join(rows) + "\n")
        os.utime(path, (old, old))


def run(folder: Path, memory: FileMemory) -> tuple[float, int, int]:
    sub = Submitter(MappingTable(), lambda _m: DeliveryResult())
    started = time.perf_counter()
    report = poll_folder(FolderConfig(str(folder), connector="generic"), memory,
                         build_registry(), sub)  # fmt: skip
    return time.perf_counter() - started, len(report.imported), sub.result.read


def main() -> None:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "inbox"
        folder.mkdir()
        fill(folder, files)
        memory = FileMemory(Path(tmp) / "folders.sqlite3")
        first, imported, readings = run(folder, memory)
        second, again, _ = run(folder, memory)
        started = time.perf_counter()
        for entry in os.scandir(folder):
            entry.stat()
        floor = time.perf_counter() - started
    print(f"first run: {imported} files, {readings} readings in {first:.2f} s "
          f"({imported / first:.0f} files/s)")  # fmt: skip
    print(f"second run (nothing new): {again} files in {second * 1000:.0f} ms")
    print(f"floor (scandir + stat of {files} files): {floor * 1000:.0f} ms")


if __name__ == "__main__":
    main()
