"""Poll SFTP folders (paramiko): pinned host key, new files once, optional archive.

The server's host key is pinned: an unknown key is refused with its SHA256
fingerprint (the user accepts it with ``--host-key-fingerprint`` or in the
wizard), a changed key is refused loudly. Each new file is downloaded, read
by its connector (chosen per folder, or recognised by the registry), handed
to `submit`, remembered (name, mtime, SHA-256) and, if asked, moved to an
archive folder on the server. Nothing is ever deleted on the server.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import logging
import posixpath
import socket
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import paramiko

from app.core.pipeline import choose_connector
from app.core.pull_submit import Submitter
from app.core.sftp_state import FileRecord, SftpState
from connectors.base import ReadingBatch, Source, SourceError
from connectors.registry import ConnectorRegistry

log = logging.getLogger(__name__)

PASSWORD_SECRET = "sftp-password"


def password_name(user: str, host: str) -> str:
    """The keyring entry of one server login's password (or key passphrase)."""
    return f"{PASSWORD_SECRET}:{user}@{host}"


class SftpError(Exception):
    """The server cannot be used (unreachable, login refused, folder missing)."""


class HostKeyError(SftpError):
    """The server's host key is not the pinned one (or none is pinned yet)."""

    def __init__(self, message: str, *, fingerprint: str, expected: str | None) -> None:
        super().__init__(message)
        self.fingerprint = fingerprint
        self.expected = expected


@dataclass
class SftpFolder:
    """A folder to poll and what to do with its files."""

    path: str
    connector: str = "auto"
    archive: str = ""  # move imported files here (on the server); empty: leave them
    pattern: str = "*"
    min_age_s: int = 0  # files modified more recently are left for the next poll (uploads)
    options: dict[str, Any] = field(default_factory=dict)  # connector options (tz, layout ...)


@dataclass
class SftpConfig:
    """A saved SFTP pull (the password lives in the keyring / SFTP_PASSWORD)."""

    host: str
    user: str
    folders: list[SftpFolder]
    port: int = 22
    key_file: str = ""
    host_key_fingerprint: str = ""
    timeout_s: float = 30.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SftpConfig:
        """Build from saved JSON."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        names = SftpFolder.__dataclass_fields__
        known["folders"] = [
            SftpFolder(**{k: v for k, v in f.items() if k in names})
            for f in data.get("folders", [])
        ]
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the job store."""
        return asdict(self)

    @property
    def server(self) -> str:
        """``user@host:port``, how files are remembered and reported."""
        return f"{self.user}@{self.host}:{self.port}"


@dataclass
class SftpReport:
    """What one poll did."""

    imported: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    skipped: int = 0
    waiting: int = 0
    archived: int = 0
    warnings: list[str] = field(default_factory=list)


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint of a host key (``SHA256:...``, no padding)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def check_host_key(config: SftpConfig, state: SftpState, offered: str) -> None:
    """Accept the server's key only if it is the pinned one.

    ``config.host_key_fingerprint`` (given by the user) pins or re-pins; else the
    stored pin is used.

    Raises:
        HostKeyError: unknown key (fingerprint shown) or changed key (loud).
    """
    given = config.host_key_fingerprint.strip()
    expected = given or state.pinned(config.host, config.port)
    where = f"{config.host}:{config.port}"
    if expected is None:
        raise HostKeyError(
            f"the SFTP server {where} is not known yet. Its host key fingerprint is "
            f"{offered}. Check it with the server's administrator, then accept it with "
            f"--host-key-fingerprint {offered}",
            fingerprint=offered,
            expected=None,
        )
    if offered != expected:
        raise HostKeyError(
            f"WARNING: THE HOST KEY OF {where} HAS CHANGED. Expected {expected}, the server "
            f"offered {offered}. Someone may be intercepting the connection; nothing was "
            "downloaded. If the administrator confirms the new key, accept it with "
            f"--host-key-fingerprint {offered}",
            fingerprint=offered,
            expected=expected,
        )
    if given:
        state.pin(config.host, config.port, given)


@contextmanager
def connect(
    config: SftpConfig, state: SftpState, password: str | None
) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session after the host key check and login.

    Raises:
        HostKeyError: see `check_host_key`.
        SftpError: unreachable server, refused login, unreadable key file.
    """
    try:
        sock = socket.create_connection((config.host, config.port), timeout=config.timeout_s)
    except OSError as exc:
        raise SftpError(f"cannot reach {config.host}:{config.port}: {exc}") from exc
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=config.timeout_s)
        check_host_key(config, state, fingerprint(transport.get_remote_server_key()))
        _login(transport, config, password)
        client = paramiko.SFTPClient.from_transport(transport)
        if client is None:
            raise SftpError(f"{config.server} refused to open an SFTP session")
        yield client
    except paramiko.SSHException as exc:
        raise SftpError(f"SSH with {config.host}:{config.port} failed: {exc}") from exc
    finally:
        transport.close()


def _login(transport: paramiko.Transport, config: SftpConfig, password: str | None) -> None:
    try:
        if config.key_file:
            transport.auth_publickey(config.user, load_key(config.key_file, password))
        elif password:
            transport.auth_password(config.user, password)
        else:
            raise SftpError(
                "no SFTP password or key: give --key FILE, save the password in the app "
                "(kept in the OS keyring) or set SFTP_PASSWORD for headless runs"
            )
    except paramiko.AuthenticationException as exc:
        raise SftpError(f"{config.server} refused the login ({exc})") from exc


def load_key(path: str, passphrase: str | None) -> paramiko.PKey:
    """A private key file (OpenSSH or PEM; the password, if any, is its passphrase).

    Raises:
        SftpError: the file is missing, unreadable or not a key.
    """
    try:
        return paramiko.PKey.from_path(path, passphrase)
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise SftpError(f"cannot use the key file {path}: {exc}") from exc


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
