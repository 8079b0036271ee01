"""Where devices reach the listener: the URL to give them, and who can reach it.

A running listener records the address it really bound (``listener.json`` in
the data folder, with its process id), because ``serve --listen`` and a port
of 0 differ from the settings. `push_address` reads it while that process
lives, else the settings, and says plainly when only this computer can reach
the listener (a loopback bind) and how to change that.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "listener.json"


@dataclass(frozen=True)
class PushAddress:
    """The listener's address as devices should be told it."""

    scheme: str
    host: str  # what devices put in the URL
    port: int
    bound: str  # the address the listener binds
    running: bool  # read from a running listener (else from the settings)

    def url(self, device: str) -> str:
        """The push URL of `device`."""
        return f"{self.scheme}://{self.host}:{self.port}/push/{device}"

    @property
    def local_only(self) -> bool:
        """Whether only this computer can reach the listener."""
        return _is_loopback(self.bound)

    def reach(self) -> str:
        """A sentence on who can reach the listener and how to change it."""
        state = "" if self.running else " (not running now; from the settings)"
        if self.local_only:
            return (
                f"Only this computer can reach the listener: it listens on {self.bound}"
                f"{state}. For devices on the network: meterbridge serve --lan --listen "
                f"0.0.0.0:{self.port} (or settings listener.allow_lan=true, "
                "listener.host=0.0.0.0, and listener.public_host=<this computer's name>)."
            )
        return f"Devices on the network reach the listener at {self.host}:{self.port}{state}."


def record(data_dir: Path, scheme: str, bound: str, port: int, public_host: str = "") -> None:
    """Note the address a listener of this process bound (read by `push_address`)."""
    document = {
        "pid": os.getpid(),
        "scheme": scheme,
        "bound": bound,
        "port": int(port),
        "public_host": public_host,
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / FILE_NAME
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(document), encoding="utf-8")
    os.replace(temporary, target)


def forget(data_dir: Path) -> None:
    """Remove this process's record (the listener stopped)."""
    target = data_dir / FILE_NAME
    with contextlib.suppress(OSError, ValueError):
        if json.loads(target.read_text(encoding="utf-8")).get("pid") == os.getpid():
            target.unlink()


def push_address(data_dir: Path, settings: Any) -> PushAddress:
    """The running listener's address, else the one the settings give.

    Args:
        data_dir: the home's data folder.
        settings: the `ListenerSettings`.
    """
    found = _running(data_dir)
    if found is not None:
        bound, port = str(found["bound"]), int(found["port"])
        host = str(found.get("public_host") or "") or _shown_host(bound)
        return PushAddress(str(found.get("scheme") or "http"), host, port, bound, True)
    scheme = "https" if settings.tls_cert else "http"
    bound = str(settings.host)
    host = settings.public_host or _shown_host(bound)
    return PushAddress(scheme, host, int(settings.port), bound, False)


def _running(data_dir: Path) -> dict[str, Any] | None:
    try:
        document = json.loads((data_dir / FILE_NAME).read_text(encoding="utf-8"))
        pid = int(document["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return document if _alive(pid) else None


def _alive(pid: int) -> bool:
    if pid == os.getpid() or sys.platform == "win32":
        return True  # Windows: os.kill(pid, 0) would end the process; `forget` tidies up
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _shown_host(bound: str) -> str:
    """What a device should put in the URL for a bind address (all interfaces: our name)."""
    if bound in ("0.0.0.0", "::", ""):
        return socket.gethostname() or bound
    return bound


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
