"""The outbox: EnergyCAP-ready Import API files a user can import by hand.

With no EnergyCAP URL set (a fresh install), `send` writes here; `convert`
writes the same files to any folder. Each file is a CSV (`<stem>.csv`) with
its import profile next to it (`<stem>.profile.json`, the inline
ReadingImportProfile that reads it). Names are unique and sort by time:
``meterbridge-20261126T082200Z-001.csv``. Nothing is ever overwritten, and
nothing secret is written.

The writer streams: each batch of mapped readings is appended to the file of
its group (id kind, observation type, unit, interval), so memory stays flat
however big the source. Formatting and writing a batch run on one worker
thread while the caller reads the next batch (Arrow releases the GIL); at most
one batch is in flight, and an error of the worker is raised by the next
`write` or by `close`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from app.core.energycap.exporter import (
    CSV_HEADER_LINE,
    ImportKey,
    TimeLabel,
    import_csv_pieces,
    import_groups,
    import_profile,
    label_times,
    sort_for_import,
)

PROFILE_SUFFIX = ".profile.json"


@dataclass
class OutputFile:
    """A finished import file and its profile."""

    csv_path: Path
    profile_path: Path
    count: int
    profile: dict[str, Any]


@dataclass
class _Open:
    stem: str
    path: Path
    handle: IO[bytes]
    key: ImportKey
    count: int = 0


def _start_writeback(fd: int, start: int, length: int) -> None:
    """Start writing a file's new bytes to disk without waiting for them.

    On Linux `POSIX_FADV_DONTNEED` starts the write-back of dirty pages and
    returns; waiting for the disk (an `fdatasync` per batch) held the writer
    thread, and so the reader, for a fifth of a convert. `close` still fsyncs
    each file before it is reported written; elsewhere this does nothing.
    """
    advise = getattr(os, "posix_fadvise", None)
    dont_need = getattr(os, "POSIX_FADV_DONTNEED", None)
    if advise is not None and dont_need is not None and length > 0:
        advise(fd, start, length, dont_need)


def timestamp_stem(prefix: str, now: datetime) -> str:
    """The sortable part of a file name: prefix and UTC time to the second."""
    return f"{prefix}-{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


class ImportFileWriter:
    """Streams mapped readings into import CSV files + profiles in one folder."""

    def __init__(
        self,
        folder: str | Path,
        *,
        label: TimeLabel = "end",
        time_zone_id: int | None = None,
        prefix: str = "meterbridge",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.folder = Path(folder)
        self.label: TimeLabel = label
        self.time_zone_id = time_zone_id
        self._base = timestamp_stem(prefix, clock())
        self._counter = 0
        self._open: dict[ImportKey, _Open] = {}
        self.outputs: list[OutputFile] = []
        self._worker: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def write(self, mapped: pd.DataFrame) -> int:
        """Append mapped readings to their groups' files; returns how many were written.

        Raises:
            ExportError: readings the Import API cannot carry (mapped by channel_id).
            OSError: the folder cannot be written.
        """
        jobs: list[tuple[_Open, pd.DataFrame]] = []
        for key, group in import_groups(mapped):
            if self.label != "end":
                label_times(group, self.label)  # an unknown interval is refused now, not later
            target = self._file_for(key)
            target.count += len(group)
            jobs.append((target, group))
        self._wait()
        if jobs:
            if self._worker is None:
                self._worker = ThreadPoolExecutor(1, thread_name_prefix="import-file-writer")
            self._pending = self._worker.submit(self._append, jobs)
        return sum(len(group) for _, group in jobs)

    def _append(self, jobs: list[tuple[_Open, pd.DataFrame]]) -> None:
        """On the worker thread: format the rows of each group and append them to its file."""
        for target, group in jobs:
            start = target.handle.tell()
            for piece in import_csv_pieces(sort_for_import(group), target.key.kind, self.label):
                target.handle.write(piece)
            target.handle.flush()
            end = target.handle.tell()  # to disk as we go: `close` has little left to do
            _start_writeback(target.handle.fileno(), start, end - start)

    def _wait(self) -> None:
        """Wait for the batch in flight; raise its error."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _file_for(self, key: ImportKey) -> _Open:
        found = self._open.get(key)
        if found is None:
            found = self._create(key)
            self._open[key] = found
        return found

    def _create(self, key: ImportKey) -> _Open:
        """Open a new file exclusively (never overwriting), header written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            self._counter += 1
            stem = f"{self._base}-{self._counter:03d}"
            path = self.folder / f"{stem}.csv"
            if (self.folder / f"{stem}{PROFILE_SUFFIX}").exists():
                continue
            try:
                handle = path.open("xb")
            except FileExistsError:
                continue
            handle.write(CSV_HEADER_LINE)
            return _Open(stem=stem, path=path, handle=handle, key=key)

    def close(self) -> list[OutputFile]:
        """Finish every file: flush it to disk and write its profile next to it."""
        error: OSError | None = None
        try:
            self._wait()
        except OSError as exc:  # the files keep what was written; profiles still follow
            error = exc
        finally:
            if self._worker is not None:
                self._worker.shutdown()
                self._worker = None
        for item in self._open.values():
            self.outputs.append(self._finish(item))
        self._open.clear()
        if error is not None:
            raise error
        return self.outputs

    def _finish(self, item: _Open) -> OutputFile:
        item.handle.flush()
        os.fsync(item.handle.fileno())
        item.handle.close()
        key = item.key
        profile = import_profile(
            key.kind, key.observation_type, key.unit_code, key.interval_s,
            self.time_zone_id, item.stem,
        )  # fmt: skip
        profile_path = item.path.with_name(item.stem + PROFILE_SUFFIX)
        with profile_path.open("x", encoding="utf-8") as handle:
            json.dump(profile, handle, indent=2)
            handle.write("\n")
        return OutputFile(item.path, profile_path, item.count, profile)

    def abort(self) -> None:
        """Close open files after a failure, keeping what was written (with profiles)."""
        self.close()
