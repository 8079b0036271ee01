"""Windows: let devices on a private network reach the listener's port (asked once, elevated).

Windows Defender Firewall blocks inbound connections to a new program; the
installer runs per user and cannot add a rule, so the first "Listen on the
network" asks Windows (UAC) to add one rule: this TCP port only, private
networks only. Elsewhere meterbridge changes no firewall and says so. Windows may
take a while to ask (UAC): call `allow_port` on a worker, never the GUI thread.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

Runner = Callable[[list[str]], int]


def rule_name(port: int) -> str:
    """The rule's name in Windows Defender Firewall."""
    return f"meterbridge listener (TCP {port})"


def netsh_arguments(port: int) -> list[str]:
    """netsh's arguments for an inbound allow rule: this port, TCP, private networks only."""
    return ["advfirewall", "firewall", "add", "rule", f"name={rule_name(port)}", "dir=in",
            "action=allow", "protocol=TCP", f"localport={port}", "profile=private"]  # fmt: skip


def elevated_command(port: int) -> list[str]:
    """PowerShell starting netsh elevated (Windows asks the user) and waiting for it."""
    quoted = ",".join(f"'{a}'" for a in netsh_arguments(port))
    return ["powershell", "-NoProfile", "-NonInteractive", "-Command",
            f"Start-Process -FilePath netsh -Verb RunAs -Wait -WindowStyle Hidden "
            f"-ArgumentList {quoted}"]  # fmt: skip


def _run(command: list[str]) -> int:
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    return subprocess.run(command, check=False, creationflags=flags, timeout=120).returncode


def allow_port(port: int, marker_dir: Path, *, platform: str = sys.platform,
               run: Runner = _run) -> str:  # fmt: skip
    """Add the rule once per port (on Windows); returns a plain sentence for the user.

    Blocks while Windows asks the user (up to two minutes): run it on a worker.
    """
    if not platform.startswith("win"):
        return (f"meterbridge changes no firewall on this system: if one is active, allow "
                f"incoming TCP port {port} from your devices' network.")  # fmt: skip
    marker = marker_dir / f"firewall-rule-{port}"
    if marker.exists():
        return ""
    try:
        code = run(elevated_command(port))
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("firewall rule for port %s not added: %s", port, exc)
        code = -1
    if code != 0:
        return (f"Windows did not add the firewall rule for port {port}: devices may not reach "
                "this PC. Allow meterbridge on private networks when Windows asks, or ask your "
                "IT team to open the port.")  # fmt: skip
    marker.write_text(rule_name(port), encoding="utf-8")
    log.info("firewall rule %r added", rule_name(port))
    return f"Windows now lets devices on private networks reach port {port}."
