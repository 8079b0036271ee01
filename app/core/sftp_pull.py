"""Poll SFTP folders (paramiko): pinned host key, new files once, optional archive.

The server's host key is pinned: an unknown key is refused with its SHA256
fingerprint (the user accepts it with ``--host-key-fingerprint`` or in the
wizard), a changed key is refused loudly. Each new file is downloaded, read
by its connector (chosen per folder, or recognised by the registry), handed
to `submit`, remembered (name, mtime, SHA-256) and, if asked, moved to an
archive folder on the server. Nothing is ever deleted on the server.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import logging
import posixpath
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import paramiko

from app.core.pipeline import choose_connector
from app.core.pull_submit import Submitter
from app.core.sftp_connect import (
    PASSWORD_SECRET,
    HostKeyError,
    SftpConfig,
    SftpError,
    SftpFolder,
    connect,
    password_name,
)
from app.core.sftp_state import FileRecord, SftpState
from connectors.base import ReadingBatch, Source, SourceError
from connectors.registry import ConnectorRegistry

log = logging.getLogger(__name__)

__all__ = [
    "PASSWORD_SECRET",
    "HostKeyError",
    "SftpConfig",
    "SftpError",
    "SftpFolder",
    "SftpReport",
    "password_name",
    "poll",
]


@dataclass
class SftpReport:
    """What one poll did."""

    imported: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    skipped: int = 0
    waiting: int = 0
    archived: int = 0
    warnings: list[str] = field(default_factory=list)


def poll(
    config: SftpConfig,
    state: SftpState,
    registry: ConnectorRegistry,
    submit: Submitter,
    *,
    password: str | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> SftpReport:
    """Import every new file of every configured folder once.

    Raises:
        HostKeyError, SftpError: the server cannot be used; nothing was imported.
    """
    report = SftpReport()
    with connect(config, state, password) as client:
        for folder in config.folders:
            _poll_folder(client, config, folder, state, registry, submit, report, cancelled)
    return report


def _listing(client: paramiko.SFTPClient, folder: SftpFolder) -> list[paramiko.SFTPAttributes]:
    try:
        entries = client.listdir_attr(folder.path)
    except OSError as exc:
        raise SftpError(f"cannot list the folder {folder.path}: {exc}") from exc
    files = [
        e for e in entries
        if stat.S_ISREG(e.st_mode or 0) and fnmatch.fnmatch(e.filename, folder.pattern)
    ]  # fmt: skip
    return sorted(files, key=lambda e: (e.st_mtime or 0, e.filename))


def _poll_folder(
    client: paramiko.SFTPClient,
    config: SftpConfig,
    folder: SftpFolder,
    state: SftpState,
    registry: ConnectorRegistry,
    submit: Submitter,
    report: SftpReport,
    cancelled: Callable[[], bool],
) -> None:
    youngest = time.time() - folder.min_age_s
    for entry in _listing(client, folder):
        if cancelled():
            return
        mtime, size = int(entry.st_mtime or 0), int(entry.st_size or 0)
        if folder.min_age_s and mtime > youngest:
            report.waiting += 1  # may still be uploading
            continue
        if state.seen(config.server, folder.path, entry.filename, mtime, size):
            report.skipped += 1
            continue
        remote = posixpath.join(folder.path, entry.filename)
        try:
            data = _download(client, remote)
        except SftpError as exc:  # this file only (permissions, vanished); tried again next poll
            submit.result.errors.append(str(exc))
            report.warnings.append(str(exc))
            continue
        digest = hashlib.sha256(data).hexdigest()
        record = FileRecord(config.server, folder.path, entry.filename, mtime, size, digest,
                            "imported", 0, None)  # fmt: skip
        if state.same_content(config.server, folder.path, entry.filename, digest):
            state.record(record)  # touched, not changed
            report.skipped += 1
            continue
        source = Source.from_bytes(data, f"sftp://{config.server}{remote}")
        record = _import(source, folder, registry, submit, record, report)
        state.record(record)
        if record.status == "imported" and folder.archive:
            _archive(client, folder, entry.filename, report)


def _download(client: paramiko.SFTPClient, remote: str) -> bytes:
    buffer = io.BytesIO()
    try:
        client.getfo(remote, buffer)
    except OSError as exc:
        raise SftpError(f"cannot download {remote}: {exc}") from exc
    return buffer.getvalue()


def _import(
    source: Source,
    folder: SftpFolder,
    registry: ConnectorRegistry,
    submit: Submitter,
    record: FileRecord,
    report: SftpReport,
) -> FileRecord:
    """Read and submit one file; a file that cannot be read is recorded as rejected."""
    try:
        candidate = choose_connector(registry, source, folder.connector)
        line = submit.source(source.label, candidate.connector.info.id)
        count = 0
        for batch in _guarded(candidate.connector.read(source, folder.options), source):
            count += submit(batch, line)
    except SourceError as exc:
        message = str(exc) if exc.file else f"{source.label}: {exc}"
        submit.result.errors.append(message)
        report.rejected.append(source.label)
        return FileRecord(**{**asdict(record), "status": "rejected", "message": message})
    report.imported.append(source.label)
    return FileRecord(**{**asdict(record), "readings": count})


def _guarded(batches: Iterator[ReadingBatch], source: Source) -> Iterator[ReadingBatch]:
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


def _archive(
    client: paramiko.SFTPClient, folder: SftpFolder, name: str, report: SftpReport
) -> None:
    """Move an imported file into the archive folder (a suffix avoids overwriting)."""
    archive = (
        folder.archive
        if folder.archive.startswith("/")
        else posixpath.join(folder.path, folder.archive)
    )
    try:
        try:
            client.stat(archive)
        except OSError:
            client.mkdir(archive)
        target = posixpath.join(archive, name)
        number = 1
        while _exists(client, target):
            stem, dot, ext = name.rpartition(".")
            target = posixpath.join(archive, f"{stem or ext}-{number}{dot}{ext if stem else ''}")
            number += 1
        client.rename(posixpath.join(folder.path, name), target)
        report.archived += 1
    except OSError as exc:
        report.warnings.append(f"imported {name} but could not move it to {archive}: {exc}")


def _exists(client: paramiko.SFTPClient, path: str) -> bool:
    try:
        client.stat(path)
    except OSError:
        return False
    return True
