"""What a setup wizard produces, checked and saved without Qt.

A `SourceSetup` is one configured source: its kind, name, connector settings
(never a secret: those go to the keyring), mapping, schedule and destination.
Saved sources are kept in ``sources.json`` in the config folder; pulled kinds
are also saved as scheduler jobs so `meterbridge serve` and the GUI run them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.core import ui_validation as v

# Kinds whose data is pulled on a schedule (the rest are pushed or dropped).
PULLED_KINDS: frozenset[str] = frozenset({"verdigris", "uk-hh-sftp"})
DESTINATIONS: tuple[str, ...] = ("energycap", "outbox")
APIS: tuple[str, ...] = ("readings", "esa", "import")


@dataclass
class SourceSetup:
    """One configured source."""

    kind: str
    name: str
    connector: str
    settings: dict[str, Any] = field(default_factory=dict)
    mapping_file: str = ""
    interval_minutes: int = 30
    destination: str = "energycap"
    api: str = "readings"

    @property
    def pulled(self) -> bool:
        """Whether the scheduler pulls this source."""
        return self.kind in PULLED_KINDS


def check_setup(setup: SourceSetup) -> list[str]:
    """Every problem of a setup, in plain sentences (empty: it can be saved)."""
    problems = [
        v.check_name(setup.name),
        v.check_interval_minutes(setup.interval_minutes),
        None if setup.destination in DESTINATIONS else "Choose EnergyCAP or the outbox folder.",
        None if setup.api in APIS else f"The API must be one of {', '.join(APIS)}.",
        v.check_existing_file(setup.mapping_file) if setup.mapping_file else None,
    ]
    if any(k.lower() in ("password", "secret", "token", "api_key") for k in setup.settings):
        problems.append("Secrets belong in the keyring, not in the source settings.")
    return [p for p in problems if p is not None]


def sources_file(config_dir: Path) -> Path:
    """Where configured sources are listed."""
    return config_dir / "sources.json"


def load_sources(path: Path) -> list[SourceSetup]:
    """The configured sources (none when the file does not exist)."""
    if not path.exists():
        return []
    items = json.loads(path.read_text(encoding="utf-8"))
    return [SourceSetup(**item) for item in items]


def save_source(setup: SourceSetup, config_dir: Path, jobs_file: Path) -> Path:
    """Add or replace `setup` in sources.json (and the job store when pulled).

    Raises:
        ValueError: listing what is wrong with the setup.
    """
    problems = check_setup(setup)
    if problems:
        raise ValueError(" ".join(problems))
    path = sources_file(config_dir)
    kept = [s for s in load_sources(path) if s.name != setup.name] + [setup]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(s) for s in kept], indent=2), encoding="utf-8")
    os.replace(tmp, path)
    if setup.pulled:
        _save_job(setup, jobs_file)
    return path


def _save_job(setup: SourceSetup, jobs_file: Path) -> None:
    from app.core.jobs import JobStore

    kind = "sftp" if setup.kind == "uk-hh-sftp" else setup.kind
    config = {**setup.settings, "mapping_file": setup.mapping_file, "api": setup.api}
    config["destination"] = setup.destination
    interval = timedelta(minutes=setup.interval_minutes)
    JobStore(jobs_file).save(setup.name, kind, config, interval, datetime.now(UTC))
