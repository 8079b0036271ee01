"""Settings: dataclasses with field metadata, saved as versioned JSON.

Holds `Settings` and its sections: EnergyCAP here, the journal's in `journal`,
the push listener's in `listener`, the field metadata in `labels`. The settings
UI is generated from each field's ``label`` and ``help`` metadata. Old files are
migrated by small ordered functions in `MIGRATIONS`.

May import: the standard library only (every package reads its section here).
Must never: import another `app` package (the sections live here so that no
package's settings pull the package in), or hold a secret: fields marked
``secret=True`` are refused by `save_settings` (secrets are in `app.core.secrets`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.core.settings.journal import JournalSettings
from app.core.settings.labels import meta
from app.core.settings.listener import ListenerSettings

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1

# Documented EnergyCAP hosts (a key works only on the host where it was created).
HOST_PRESETS: dict[str, str] = {
    "US East (app.energycap.com)": "https://app.energycap.com",
    "US West (wce.energycap.com)": "https://wce.energycap.com",
    "EU (app-eu.energycap.com)": "https://app-eu.energycap.com",
    "Implementation / sandbox (implement.energycap.com)": "https://implement.energycap.com",
}


@dataclass
class EnergyCapSettings:
    """How to reach EnergyCAP. No URL means: write to the outbox folder."""

    url: str = field(
        default="",
        metadata=meta("EnergyCAP host", "Empty: write EnergyCAP-ready files to the outbox."),
    )
    api: str = field(
        default="readings",
        metadata=meta("API", "readings (classic channels), esa (Smart Analytics) or import (CSV)"),
    )
    time_label: str = field(
        default="end",
        metadata=meta("Reading time marks", "end (default) or start of each interval"),
    )
    batch_size: int = field(default=5000, metadata=meta("Readings per request"))
    timeout_s: float = field(default=60.0, metadata=meta("Request timeout (s)"))
    max_attempts: int = field(default=8, metadata=meta("Attempts per request"))
    backoff_base_s: float = field(default=1.0, metadata=meta("Retry backoff base (s)"))
    backoff_cap_s: float = field(default=60.0, metadata=meta("Retry backoff cap (s)"))
    task_poll_s: float = field(default=2.0, metadata=meta("Import task poll interval (s)"))
    task_timeout_s: float = field(default=3600.0, metadata=meta("Import task timeout (s)"))
    auto_create_channels: bool = field(
        default=False, metadata=meta("Import API: create missing channels")
    )


@dataclass
class CodeDefaults:
    """Default EnergyCAP codes per quantity (used for unmapped readings)."""

    codes: dict[str, list[str]] = field(
        default_factory=lambda: {
            "kWh": ["Use", "kWh"],
            "kW": ["Demand", "kW"],
            "kVArh": ["ReactiveUse", "kVARh"],
            "kVAr": ["ReactiveDemand", "kVAR"],
        },
        metadata=meta("Default codes", "quantity → [observation type code, unit code]"),
    )


@dataclass
class Settings:
    """All of meterbridge's settings."""

    version: int = SETTINGS_VERSION
    energycap: EnergyCapSettings = field(default_factory=EnergyCapSettings)
    defaults: CodeDefaults = field(default_factory=CodeDefaults)
    mapping_file: str = field(default="", metadata=meta("Mapping file (CSV)"))
    outbox_dir: str = field(default="", metadata=meta("Outbox folder", "Empty: the data folder"))
    journal: JournalSettings = field(default_factory=JournalSettings)
    listener: ListenerSettings = field(default_factory=ListenerSettings)


T = TypeVar("T")

Migration = Callable[[dict[str, Any]], dict[str, Any]]
# MIGRATIONS[n] turns a version-n document into version n+1.
MIGRATIONS: dict[int, Migration] = {}


def migrate(document: dict[str, Any]) -> dict[str, Any]:
    """Bring a settings document up to `SETTINGS_VERSION`."""
    version = int(document.get("version", 1))
    while version < SETTINGS_VERSION:
        document = MIGRATIONS[version](document)
        version += 1
        document["version"] = version
    return document


def _build(cls: type[T], data: dict[str, Any]) -> T:
    """Make dataclass `cls` from a dict, ignoring unknown keys, keeping defaults."""
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        value = data[f.name]
        default = cls.__dataclass_fields__[f.name]  # type: ignore[attr-defined]
        factory = default.default_factory
        if callable(factory) and is_dataclass(probe := factory()) and isinstance(value, dict):
            kwargs[f.name] = _build(type(probe), value)
        else:
            kwargs[f.name] = value
    return cls(**kwargs)


def load_settings(path: Path) -> Settings:
    """Read settings; a missing file gives the defaults; a broken one is named and kept."""
    if not path.exists():
        return Settings()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.error("settings file %s cannot be read (%s); using defaults", path, exc)
        return Settings()
    return _build(Settings, migrate(document))


def _check_no_secrets(obj: Any, where: str = "settings") -> None:
    if not is_dataclass(obj):
        return
    for f in fields(obj):
        if f.metadata.get("secret"):
            raise ValueError(f"{where}.{f.name} is a secret and belongs in the keyring")
        _check_no_secrets(getattr(obj, f.name), f"{where}.{f.name}")


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings atomically (temp file + rename)."""
    _check_no_secrets(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(settings), indent=2, sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
