"""The push listener's settings section."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from app.core.settings.labels import meta

DEFAULT_PORT = 8765
DEFAULT_MAX_BODY = 10 * 1024 * 1024


@dataclass
class ListenerSettings:
    """Where the push listener binds, its limits and optional TLS."""

    host: str = field(
        default="127.0.0.1",
        metadata=meta("Listen address", "127.0.0.1: this computer only; 0.0.0.0: the LAN."),
    )
    port: int = field(default=DEFAULT_PORT, metadata=meta("Listen port"))
    allow_lan: bool = field(
        default=False,
        metadata=meta("Accept pushes from the network", "Off: only loopback addresses bind."),
    )
    public_host: str = field(
        default="",
        metadata=meta("Host name devices use", "Shown in push URLs; empty: the listen address."),
    )
    tls_cert: str = field(default="", metadata=meta("TLS certificate file (PEM)"))
    tls_key: str = field(default="", metadata=meta("TLS private key file (PEM)"))
    max_body_bytes: int = field(
        default=DEFAULT_MAX_BODY,
        metadata=meta("Largest push body (bytes)", "Larger bodies get 413 (also after gunzip)."),
    )
    max_connections: int = field(
        default=1000,
        metadata=meta(
            "Most open connections",
            "Past it the connection idle longest is closed (kept under the open-file limit too).",
        ),
    )
    idle_timeout_s: float = field(
        default=30.0,
        metadata=meta(
            "Idle connection timeout (s)",
            "A connection without a whole request is closed after it.",
        ),
    )
    body_timeout_s: float = field(
        default=60.0,
        metadata=meta("Body timeout (s)", "A body not received within it gets 408."),
    )
    capture_max_count: int = field(
        default=200, metadata=meta("Captured payloads kept", "Oldest are removed beyond this.")
    )
    capture_max_bytes: int = field(
        default=50 * 1024 * 1024, metadata=meta("Captured payload bytes kept")
    )


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or ``localhost``."""
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: ListenerSettings) -> None:
    """Refuse a non-loopback bind unless the LAN is turned on.

    Raises:
        ValueError: with what to change.
    """
    if not is_loopback(settings.host) and not settings.allow_lan:
        raise ValueError(
            f"listen address {settings.host} is reachable from the network, but pushes from "
            "the LAN are off; turn on listener.allow_lan (or use 127.0.0.1)"
        )
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise ValueError("TLS needs both listener.tls_cert and listener.tls_key")
