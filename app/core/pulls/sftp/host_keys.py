"""Fetch an SSH server's host key fingerprint so the user can accept it once."""

from __future__ import annotations

import base64
import hashlib
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class HostKey:
    """A server's host key: its type, OpenSSH-style SHA256 fingerprint and base64 body."""

    key_type: str
    fingerprint: str
    key_base64: str


def fingerprint_of(key_bytes: bytes) -> str:
    """``SHA256:<base64 without padding>``, as ``ssh-keygen -lf`` prints it."""
    digest = base64.b64encode(hashlib.sha256(key_bytes).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


def fetch_host_key(host: str, port: int = 22, timeout_s: float = 10.0) -> HostKey:
    """Connect, read the host key, disconnect (no login is tried).

    Raises:
        OSError: when the server cannot be reached (the message says host and port).
    """
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as exc:
        raise OSError(f"cannot reach {host}:{port}: {exc.strerror or exc}") from exc
    import paramiko  # loaded when a host key is fetched, not at start

    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=timeout_s)
        key = transport.get_remote_server_key()
        return HostKey(key.get_name(), fingerprint_of(key.asbytes()), key.get_base64())
    except paramiko.SSHException as exc:
        raise OSError(f"{host}:{port} did not answer as an SSH server: {exc}") from exc
    finally:
        transport.close()
