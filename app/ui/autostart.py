"""Start meterbridge when the user logs in: the Run key on Windows, XDG autostart on Linux."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from PySide6.QtCore import QSettings

RUN_KEY = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run"
ENTRY = "meterbridge"


def launch_command() -> list[str]:
    """How to start this app again: the frozen exe, or python -m app gui --minimized."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "gui", "--minimized"]
    return [_windowless(sys.executable), "-m", "app", "gui", "--minimized"]


def _windowless(python: str) -> str:
    """On Windows, pythonw.exe beside python.exe (no console window at login)."""
    candidate = Path(python).with_name("pythonw.exe")
    if sys.platform == "win32" and Path(python).name.lower() == "python.exe" and candidate.exists():
        return str(candidate)
    return python


def xdg_autostart_file() -> Path:
    """~/.config/autostart/meterbridge.desktop (honours XDG_CONFIG_HOME)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / "meterbridge.desktop"


def desktop_entry(command: list[str]) -> str:
    """The text of the XDG autostart entry."""
    return (
        "[Desktop Entry]\nType=Application\nName=meterbridge\n"
        "Comment=Moves meter data into EnergyCAP\n"
        f"Exec={shlex.join(command)}\nX-GNOME-Autostart-enabled=true\nTerminal=false\n"
    )


def set_autostart(enabled: bool) -> str:
    """Turn start-at-login on or off; returns where it was recorded."""
    command = launch_command()
    if sys.platform == "win32":
        settings = QSettings(RUN_KEY, QSettings.Format.NativeFormat)
        if enabled:
            settings.setValue(ENTRY, " ".join(f'"{part}"' for part in command))
        else:
            settings.remove(ENTRY)
        settings.sync()
        return RUN_KEY
    path = xdg_autostart_file()
    if enabled:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(desktop_entry(command), encoding="utf-8")
    else:
        path.unlink(missing_ok=True)
    return str(path)


def autostart_enabled() -> bool:
    """Whether start-at-login is on."""
    if sys.platform == "win32":
        return QSettings(RUN_KEY, QSettings.Format.NativeFormat).contains(ENTRY)
    return xdg_autostart_file().exists()
