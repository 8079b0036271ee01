"""Desktop app preferences: theme, tray, start with the OS (``ui.json`` in the config dir)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

THEMES: tuple[str, ...] = ("system", "light", "dark")


def _meta(label: str, help: str = "") -> dict[str, Any]:
    return {"label": label, "help": help}


@dataclass
class UiSettings:
    """How the desktop app looks and behaves."""

    theme: str = field(
        default="system", metadata=_meta("Theme", "system (follows the OS), light or dark")
    )
    close_to_tray: bool = field(
        default=True,
        metadata=_meta(
            "Keep running in the tray when the window closes",
            "The listener and the schedule keep working; quit from the tray menu.",
        ),
    )
    start_with_os: bool = field(default=False, metadata=_meta("Start meterbridge when I log in"))
    notify_failures: bool = field(
        default=True, metadata=_meta("Notify me of failures and needed actions")
    )


def check_theme(theme: str) -> str | None:
    """None when `theme` is known, else a plain message."""
    return None if theme in THEMES else f"theme must be one of {', '.join(THEMES)}"


def load_ui_settings(path: Path) -> UiSettings:
    """Read the preferences; a missing or broken file gives the defaults (logged)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UiSettings()
    except (OSError, ValueError) as exc:
        log.error("preferences file %s cannot be read (%s); using defaults", path, exc)
        return UiSettings()
    field_names = {f.name for f in fields(UiSettings)}
    prefs = UiSettings(**{k: v for k, v in data.items() if k in field_names})
    return prefs if check_theme(prefs.theme) is None else replace(prefs, theme="system")


def save_ui_settings(prefs: UiSettings, path: Path) -> None:
    """Write the preferences atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(prefs), indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
