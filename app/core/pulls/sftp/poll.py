"""Poll SFTP folders (paramiko): pinned host key, new files once, optional archive.

The server's host key is pinned: an unknown key is refused with its SHA256
fingerprint (the user accepts it with ``--host-key-fingerprint`` or in the
wizard), a changed key is refused loudly. Each new file is downloaded, read
by its connector (chosen per folder, or recognised by the registry), handed
to `submit`, remembered (name, mtime, SHA-256) and, if asked, moved to an
archive folder on the server: `app.core.pulls.file_intake.take_file`, the road the
local-folder poller shares. Nothing is ever deleted on the server.
"""

from __future__ import annotations

import fnmatch
import io
import posixpath
import stat
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from app.core.error_kinds import kind_of
from app.core.pulls.file_intake import FetchError, IntakeReport, Listed, Reading, take_file
from app.core.pulls.sftp.connect import (
    PASSWORD_SECRET,
    HostKeyError,
    SftpConfig,
    SftpError,
    SftpFolder,
    connect,
    password_name,
)
from app.core.pulls.sftp.state import SftpState
from app.core.pulls.submit import Submitter
from connectors.registry import ConnectorRegistry

if TYPE_CHECKING:  # paramiko (and cryptography) load when a job connects, not at start
    import paramiko

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

SftpReport = IntakeReport  # what one poll did


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
        raise SftpError(f"cannot list the folder {folder.path}: {exc}", kind=kind_of(exc)) from exc
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
    reading = Reading(registry, folder.connector, folder.options)
    seen_files = state.seen_files(config.server, folder.path)  # one query, not one per file
    for entry in _listing(client, folder):
        if cancelled():
            return
        mtime, size = int(entry.st_mtime or 0), int(entry.st_size or 0)
        if folder.min_age_s and mtime > youngest:
            report.waiting += 1  # may still be uploading
            continue
        remote = posixpath.join(folder.path, entry.filename)
        listed = Listed(config.server, folder.path, entry.filename, mtime, size)
        label = f"sftp://{config.server}{remote}"
        fetch = partial(_download, client, remote)
        record = take_file(listed, fetch, label, state, reading, submit, report, seen_files)
        if record is not None and record.status == "imported" and folder.archive:
            _archive(client, folder, entry.filename, report)


def _download(client: paramiko.SFTPClient, remote: str) -> bytes:
    buffer = io.BytesIO()
    try:
        client.getfo(remote, buffer)
    except OSError as exc:
        raise FetchError(f"cannot download {remote}: {exc}", kind=kind_of(exc)) from exc
    return buffer.getvalue()


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
