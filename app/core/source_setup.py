"""What a setup wizard produces, checked and saved through the real stores (no Qt).

A `SourceSetup` is one configured source: its kind, name, connector settings
(never a secret: those go to the keyring), mapping, schedule and destination.
Saving puts each kind where the engine reads it:

* pushing devices (EpiSensor, AcuRev 2100, AcuLink 810): the device registry
  (``devices.json``) the listener checks tokens against — registered by the
  wizard's connection step, which shows the URL and token;
* Verdigris and SFTP folders: a scheduler job (``jobs.sqlite3``) with the
  configuration `VerdigrisConfig` / `SftpConfig` read back, the secret in the
  keyring under the name the pull code looks up;
* every source: a line in ``sources.json`` (the wizard's own record, for the
  dashboard and for editing later). Local folders are recorded there only.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.core import ui_validation as v
from app.core.paths import AppPaths
from app.core.secrets import SecretStore

PUSH_KINDS: frozenset[str] = frozenset({"episensor", "acurev2100", "aculink810"})
PULLED_KINDS: frozenset[str] = frozenset({"verdigris", "uk-hh-sftp"})
DESTINATIONS: tuple[str, ...] = ("energycap", "outbox")
APIS: tuple[str, ...] = ("readings", "esa", "import")
SECRET_KEYS: frozenset[str] = frozenset({"password", "secret", "client_secret", "token"})


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
    if setup.kind in PUSH_KINDS:
        problems.append(check_device(setup.name, setup.connector, setup.settings.get("tz", "UTC")))
    if any(k.lower() in SECRET_KEYS for k in setup.settings):
        problems.append("Secrets belong in the keyring, not in the source settings.")
    return [p for p in problems if p is not None]


def check_device(name: str, connector: str, tz: str) -> str | None:
    """The device registry's own check of a push device (its name goes in the URL)."""
    from app.core.devices import DeviceError, validate

    try:
        validate(name, connector, tz)
    except DeviceError as exc:
        return str(exc)
    return None


def sources_file(config_dir: Path) -> Path:
    """Where configured sources are listed."""
    return config_dir / "sources.json"


def load_sources(path: Path) -> list[SourceSetup]:
    """The configured sources (none when the file does not exist)."""
    if not path.exists():
        return []
    items = json.loads(path.read_text(encoding="utf-8"))
    return [SourceSetup(**item) for item in items]


def save_source(
    setup: SourceSetup,
    paths: AppPaths,
    secrets: SecretStore,
    secret_values: dict[str, str] | None = None,
) -> Path:
    """Store the secrets, save pulled kinds as jobs, and record the source.

    Args:
        setup: the source.
        paths: the meterbridge home.
        secrets: where secrets go (never a file).
        secret_values: ``password`` (SFTP) or ``client_secret`` (Verdigris), if given.

    Raises:
        ValueError: listing what is wrong with the setup.
        NoKeyringError: a secret was given but no secure keyring exists.
    """
    problems = check_setup(setup)
    if problems:
        raise ValueError(" ".join(problems))
    values = secret_values or {}
    if setup.kind == "verdigris":
        _save_verdigris(setup, paths, secrets, values.get("client_secret", ""))
    elif setup.kind == "uk-hh-sftp":
        _save_sftp(setup, paths, secrets, values.get("password", ""))
    path = sources_file(paths.config_dir)
    kept = [s for s in load_sources(path) if s.name != setup.name] + [setup]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(s) for s in kept], indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _save_verdigris(setup: SourceSetup, paths: AppPaths, secrets: SecretStore, secret: str) -> None:
    from app.core.verdigris_auth import secret_name
    from app.core.verdigris_pull import VerdigrisConfig

    s = setup.settings
    config = VerdigrisConfig(
        client_id=s["client_id"],
        circuits=list(s.get("ids", [])),
        interval=s.get("interval", "15m"),
        kinds=[s.get("measure", "energy")],
    )
    config.validate()
    if secret:
        secrets.set(secret_name(config.client_id), secret)
    _save_job(setup, paths, "verdigris", config.to_dict())


def _save_sftp(setup: SourceSetup, paths: AppPaths, secrets: SecretStore, password: str) -> None:
    from app.core.sftp_pull import SftpConfig, SftpFolder, password_name

    s = setup.settings
    folders = [
        SftpFolder(path=f, connector=setup.connector, options={"tz": s.get("tz", "Europe/London")})
        for f in s.get("folders", [])
    ]
    config = SftpConfig(
        host=s["host"],
        user=s["user"],
        folders=folders,
        port=int(s.get("port", 22)),
        host_key_fingerprint=s.get("host_key_fingerprint", ""),
    )
    if password:
        secrets.set(password_name(config.user, config.host), password)
    _save_job(setup, paths, "sftp", config.to_dict())


def _save_job(setup: SourceSetup, paths: AppPaths, kind: str, config: dict[str, Any]) -> None:
    from app.core.jobs import JobStore

    interval = timedelta(minutes=setup.interval_minutes)
    store = JobStore(paths.data_dir / "jobs.sqlite3")
    store.save(setup.name, kind, config, interval, datetime.now(UTC))
