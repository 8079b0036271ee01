"""Taking files in once: the road shared by the SFTP and the local-folder pollers (no Qt).

`take_file` is what happens to one listed file:

1. its name, modification time and size are remembered: skipped, not even read;
2. it is fetched (downloaded, or read from disk); a file that is not ready
   (still being written, locked) is left for the next run, one that cannot
   be fetched is named in the run's errors, and the others go on;
3. the same bytes were handled under this name before (touched, not changed):
   remembered with the new time, skipped;
4. otherwise its connector (fixed, or recognised by the registry) reads it,
   each batch goes to `submit` (the journal first, as `meterbridge send`), and
   the file is remembered by its SHA-256 as imported, or as rejected with the
   reason (named in the run's errors; not retried until it changes). Readings
   missing from a file read (`connectors.series_gaps`) are warnings of the
   run, as with `send`: in its problems (`meterbridge pull` lists them) and in
   `IntakeReport.gaps` (the job's run message names the first) and
   `IntakeReport.gap_notes` (kept with the job's run for the dashboard).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from app.core.error_kinds import KindedError
from app.core.pipeline import choose_connector
from app.core.pulls.gap_notes import GapNotes
from app.core.pulls.sftp.state import FileMemory, FileRecord
from app.core.pulls.submit import Submitter
from connectors.base import ReadingBatch, Source, SourceError
from connectors.gap_tracker import gap_tracker_for
from connectors.registry import ConnectorRegistry
from connectors.series_gaps import gap_problems

log = logging.getLogger(__name__)


@dataclass
class IntakeReport:
    """What one poll did with the files it listed (names are the files' labels)."""

    imported: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    skipped: int = 0
    waiting: int = 0
    archived: int = 0
    warnings: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # readings missing from files read (warnings)
    gap_notes: GapNotes = field(default_factory=GapNotes)  # the same, for the job's run record

    def summary(self) -> str:
        """``2 new files, 5 already imported, 1 left for the next run``."""
        text = f"{len(self.imported)} new files, {self.skipped} already imported"
        if self.rejected:
            text += f", {len(self.rejected)} unreadable"
        if self.waiting:
            text += f", {self.waiting} left for the next run"
        if self.archived:
            text += f", {self.archived} archived"
        return text


class FetchError(KindedError):
    """This one file cannot be fetched now (the message names it); the others go on."""


class FileNotReady(FetchError):
    """The file is still being written or is locked: it is left for the next run."""


@dataclass(frozen=True)
class Listed:
    """A file as listed: where it is remembered, and what the listing said of it."""

    place: str  # ``user@host:port`` or ``local``
    folder: str
    name: str
    mtime: int
    size: int


@dataclass
class Reading:
    """How files are read: the registry and the connector (``auto``: recognised) with options."""

    registry: ConnectorRegistry
    connector: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)


def take_file(
    listed: Listed,
    fetch: Callable[[], bytes],
    label: str,
    memory: FileMemory,
    reading: Reading,
    submit: Submitter,
    report: IntakeReport,
    seen_files: set[tuple[str, int, int]] | None = None,
) -> FileRecord | None:
    """Import one listed file unless it was handled before (see the module's steps).

    Args:
        seen_files: the folder's remembered (name, mtime, size), read once per
            listing (`FileMemory.seen_files`); None asks the memory for this file.

    Returns:
        The file's new record when it was read (imported or rejected); None
        when it was skipped, left for later or could not be fetched.
    """
    key = (listed.place, listed.folder, listed.name)
    if seen_files is not None:
        seen = (listed.name, listed.mtime, listed.size) in seen_files
    else:
        seen = memory.seen(*key, listed.mtime, listed.size)
    if seen:
        report.skipped += 1
        return None
    try:
        data = fetch()
    except FileNotReady as exc:
        report.waiting += 1
        report.warnings.append(str(exc))
        return None
    except FetchError as exc:  # this file only (permissions, vanished); tried again next poll
        submit.result.errors.append(str(exc))
        report.warnings.append(str(exc))
        return None
    digest = hashlib.sha256(data).hexdigest()
    record = FileRecord(*key, listed.mtime, listed.size, digest, "imported", 0, None)
    if memory.same_content(*key, digest):
        memory.record(record)  # touched, not changed
        report.skipped += 1
        return None
    record = import_source(Source.from_bytes(data, label), reading, submit, record, report)
    memory.record(record)
    return record


def import_source(
    source: Source, reading: Reading, submit: Submitter, record: FileRecord, report: IntakeReport
) -> FileRecord:
    """Read and submit one file; a file that cannot be read is recorded as rejected."""
    try:
        candidate = choose_connector(reading.registry, source, reading.connector)
        line = submit.source(source.label, candidate.connector.info.id)
        tracker = gap_tracker_for(candidate.connector.info.id)  # missing readings, told at the end
        count = 0
        for batch in guarded(candidate.connector.read(source, reading.options), source):
            if tracker is not None:
                tracker.add(batch.readings)
            count += submit(batch, line)
    except SourceError as exc:
        message = str(exc) if exc.file else f"{source.label}: {exc}"
        submit.result.errors.append(message)
        report.rejected.append(source.label)
        return FileRecord(**{**asdict(record), "status": "rejected", "message": message})
    if tracker is not None:
        found = tracker.gaps()
        gaps = gap_problems(found, source.label)
        submit.result.add_problems(gaps)  # listed with the run's problems, as `send` does
        report.gaps.extend(problem.describe() for problem in gaps)
        report.gap_notes.add(found, source.label)
    report.imported.append(source.label)
    return FileRecord(**{**asdict(record), "readings": count})


def guarded(batches: Iterator[ReadingBatch], source: Source) -> Iterator[ReadingBatch]:
    """The connector's batches; its unexpected failure becomes a SourceError for this file."""
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except SourceError:
            raise
        except Exception as exc:  # a connector bug must cost this file, not the whole poll
            log.exception("connector failed on %s", source.label)
            raise SourceError(
                f"the connector failed on this file ({type(exc).__name__}: {exc})",
                file=source.label,
            ) from exc
        yield batch
