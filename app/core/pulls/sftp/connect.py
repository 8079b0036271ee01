"""Reaching an SFTP server safely: pinned host keys, login, and the saved configuration.

The server's host key is pinned: an unknown key is refused with its SHA256
fingerprint (the user accepts it with ``--host-key-fingerprint`` or in the
wizard) and a changed key is refused loudly. Nothing is downloaded before the
key exchange proved the pinned key.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from app.core.error_kinds import REFUSED, UNREACHABLE, KindedError, kind_of
from app.core.pulls.sftp.state import SftpState

if TYPE_CHECKING:  # paramiko (and cryptography) load when a job connects, not at start
    import paramiko

HEX_PAIRS = re.compile(r"(?:[0-9a-fA-F]{2}:){15}[0-9a-fA-F]{2}")
BASE64_DIGEST = re.compile(r"[A-Za-z0-9+/]{43}=?")

# Host key algorithms by key, asked for one group at a time when the pin is not
# the key the server offered first.
KEY_TYPE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("ssh-ed25519",),
    ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"),
    ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
)

PASSWORD_SECRET = "sftp-password"


def password_name(user: str, host: str) -> str:
    """The keyring entry of one server login's password (or key passphrase)."""
    return f"{PASSWORD_SECRET}:{user}@{host}"


class SftpError(KindedError):
    """The server cannot be used (unreachable, login refused, folder missing); `kind` says
    which (app.core.error_kinds)."""


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
        settings = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        names = SftpFolder.__dataclass_fields__
        settings["folders"] = [
            SftpFolder(**{k: v for k, v in f.items() if k in names})
            for f in data.get("folders", [])
        ]
        return cls(**settings)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the job store."""
        return asdict(self)

    @property
    def server(self) -> str:
        """``user@host:port``, how files are remembered and reported."""
        return f"{self.user}@{self.host}:{self.port}"


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint of a host key (``SHA256:...``, no padding)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as written by OpenSSH, WinSCP or FileZilla, in one form.

    ``SHA256:abc…``, ``abc…=`` (padded), ``ssh-ed25519 255 abc…`` (WinSCP) all
    become ``SHA256:abc…``; ``MD5:aa:bb…`` / ``aa:bb:…`` become ``MD5:aa:bb…``.
    """
    token = _fingerprint_token(text.split())
    if token.upper().startswith("MD5:"):
        token = token[4:]
    if HEX_PAIRS.fullmatch(token):
        return "MD5:" + token.lower()
    if token.upper().startswith("SHA256:"):
        token = token[7:]
    return "SHA256:" + token.rstrip("=") if token else ""


def _fingerprint_token(tokens: list[str]) -> str:
    """The fingerprint among words like ``256 SHA256:… user@host (ED25519)`` (ssh-keygen -l)."""
    for token in tokens:
        if token.upper().startswith(("SHA256:", "MD5:")) or HEX_PAIRS.fullmatch(token):
            return token
    bare = [t for t in tokens if BASE64_DIGEST.fullmatch(t)]
    return bare[-1] if bare else (tokens[-1] if tokens else "")


def matches(key: paramiko.PKey, expected: str) -> bool:
    """Whether `key` is the one a (normalised) fingerprint names."""
    if expected.startswith("MD5:"):
        digest = hashlib.md5(key.asbytes(), usedforsecurity=False).hexdigest()
        return expected == "MD5:" + ":".join(digest[i : i + 2] for i in range(0, 32, 2))
    return fingerprint(key) == expected


def expected_pin(config: SftpConfig, state: SftpState) -> str | None:
    """The fingerprint the user gave now, else the one pinned before."""
    given = normalise_fingerprint(config.host_key_fingerprint)
    return given or state.pinned(config.host, config.port)


def unknown_key(config: SftpConfig, offered: str, key_type: str) -> HostKeyError:
    """The refusal for a server met for the first time."""
    return HostKeyError(
        f"the SFTP server {config.host}:{config.port} is not known yet. Its host key "
        f"({key_type}) fingerprint is {offered}. Check it with the server's administrator, "
        f"then accept it with --host-key-fingerprint {offered}",
        fingerprint=offered,
        expected=None,
    )


def changed_key(config: SftpConfig, offered: str, expected: str) -> HostKeyError:
    """The loud refusal for a key that is not the pinned one."""
    return HostKeyError(
        f"WARNING: THE HOST KEY OF {config.host}:{config.port} HAS CHANGED. Expected "
        f"{expected}, the server offered {offered}. Someone may be intercepting the "
        "connection; nothing was downloaded. If the administrator confirms the new key, "
        f"accept it with --host-key-fingerprint {offered}",
        fingerprint=offered,
        expected=expected,
    )


class _QuietParamiko(logging.Filter):
    """Keeps paramiko's own ERROR lines (and tracebacks) off stderr unless -vv (DEBUG).

    Every failure they describe (an incompatible key type while looking for the
    pinned key, a refused login) reaches the user as our own message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR or logging.getLogger().isEnabledFor(logging.DEBUG)


_QUIET = _QuietParamiko()


def _quiet_paramiko() -> None:
    """Attach the filter to the logger paramiko's transports write to (once)."""
    logger = logging.getLogger("paramiko.transport")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)


def _open(config: SftpConfig, key_types: Sequence[str] | None) -> paramiko.Transport:
    """A transport after key exchange, optionally offering only some host key types."""
    import paramiko

    _quiet_paramiko()
    try:
        sock = socket.create_connection((config.host, config.port), timeout=config.timeout_s)
    except OSError as exc:
        raise SftpError(
            f"cannot reach {config.host}:{config.port}: {exc}", kind=UNREACHABLE
        ) from exc
    transport = paramiko.Transport(sock)
    try:
        if key_types is not None:
            options = transport.get_security_options()
            options.key_types = [k for k in options.key_types if k in key_types]
        transport.start_client(timeout=config.timeout_s)
    except (paramiko.SSHException, OSError) as exc:
        transport.close()
        raise _ssh_failed(config, exc) from exc
    return transport


def verified_transport(config: SftpConfig, state: SftpState) -> paramiko.Transport:
    """A transport whose key exchange used the pinned host key.

    A server holds several host keys (ed25519, ECDSA, RSA); the pin may be any
    of them, so on a mismatch each key type is asked for in turn. The session
    used is always one whose key exchange proved the pinned key.

    Raises:
        HostKeyError: no pin yet (fingerprint shown) or no key of the server matches it.
        SftpError: the server cannot be reached.
    """
    transport = _open(config, None)
    key = transport.get_remote_server_key()
    offered, expected = fingerprint(key), expected_pin(config, state)
    if expected is not None and matches(key, expected):
        return _pinned(transport, config, state)
    transport.close()
    if expected is None:
        raise unknown_key(config, offered, key.get_name())
    for group in KEY_TYPE_GROUPS:
        try:
            other = _open(config, group)
        except SftpError:
            continue  # the server has no key of this type
        if matches(other.get_remote_server_key(), expected):
            return _pinned(other, config, state)
        other.close()
    raise changed_key(config, offered, expected)


def _pinned(
    transport: paramiko.Transport, config: SftpConfig, state: SftpState
) -> paramiko.Transport:
    given = normalise_fingerprint(config.host_key_fingerprint)
    if given:  # kept as the SHA256 of the key actually proved
        state.pin(config.host, config.port, fingerprint(transport.get_remote_server_key()))
    return transport


@contextmanager
def connect(
    config: SftpConfig, state: SftpState, password: str | None
) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session after the host key check and login.

    Raises:
        HostKeyError: see `verified_transport`.
        SftpError: unreachable server, refused login, unreadable key file.
    """
    import paramiko

    transport = verified_transport(config, state)
    try:
        _login(transport, config, password)
        client = paramiko.SFTPClient.from_transport(transport)
        if client is None:
            raise SftpError(f"{config.server} refused to open an SFTP session")
        yield client
    except paramiko.SSHException as exc:
        raise _ssh_failed(config, exc) from exc
    finally:
        transport.close()


def _login(transport: paramiko.Transport, config: SftpConfig, password: str | None) -> None:
    import paramiko

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
        raise SftpError(f"{config.server} refused the login ({exc})", kind=REFUSED) from exc


def _ssh_failed(config: SftpConfig, exc: Exception) -> SftpError:
    """The SSH conversation broke (a dropped connection is the server not reachable)."""
    return SftpError(f"SSH with {config.host}:{config.port} failed: {exc}", kind=kind_of(exc))


def load_key(path: str, passphrase: str | None) -> paramiko.PKey:
    """A private key file (OpenSSH or PEM; the password, if any, is its passphrase).

    Raises:
        SftpError: the file is missing, unreadable or not a key.
    """
    import paramiko

    try:
        return paramiko.PKey.from_path(path, passphrase)
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise SftpError(f"cannot use the key file {path}: {exc}", kind=kind_of(exc)) from exc
