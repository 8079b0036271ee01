"""What a setup wizard produces, checked and saved through the real stores (no Qt).

A `SourceSetup` is one configured source: its kind, name, connector settings
(never a secret: those go to the keyring), mapping and schedule. Where its
readings go is not a source's setting: delivery is app-wide (the EnergyCAP
connection and API of the settings, or the outbox), see `destination_text`;
the ``destination`` and ``api`` of records saved before are ignored.
Saving puts each kind where the engine reads it:

* pushing devices (EpiSensor, AcuRev 2100, AcuLink 810): the device registry
  (``devices.json``) the listener checks tokens against — registered by the
  wizard's connection step, which shows the URL and token;
* Verdigris, SFTP folders and local folders (UK HH or generic files): a
  scheduler job (``jobs.sqlite3``, kinds ``verdigris``, ``sftp``, ``folder``)
  with the configuration `VerdigrisConfig` / `SftpConfig` / `FolderConfig`
  read back, the secret in the keyring under the name the pull code looks up;
* every source: a line in ``sources.json`` (the wizard's own record, for the
  dashboard and for editing later).

Editing saves over the old source (`save_source(..., replaces=old_name)`): its
record, job and device settings are replaced, a device keeps its token, a
secret left blank keeps the saved one. `app.core.sources.removal` removes one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.core.paths import AppPaths
from app.core.secrets import SecretStore
from app.core.settings import Settings
from app.core.sources import validation as v
from app.core.sources.records import (
    JOB_KINDS,
    PUSH_KINDS,
    SourceSetup,
    find_source,
    forget_unused_secret,
    load_sources,
    secret_entry,
    sources_file,
    write_sources,
)

API_NAMES: dict[str, str] = {
    "readings": "Readings API",
    "esa": "ESA (Smart Analytics) API",
    "import": "Import API (CSV files with a profile)",
}
log = logging.getLogger(__name__)
SECRET_KEYS: frozenset[str] = frozenset({"password", "secret", "client_secret", "token"})


def check_setup(setup: SourceSetup) -> list[str]:
    """Every problem of a setup, in plain sentences (empty: it can be saved)."""
    problems = [
        v.check_name(setup.name),
        v.check_interval_minutes(setup.interval_minutes),
        v.check_existing_file(setup.mapping_file) if setup.mapping_file else None,
    ]
    if setup.kind in PUSH_KINDS:
        problems.append(check_device(setup.name, setup.connector, setup.settings.get("tz", "UTC")))
    if any(k.lower() in SECRET_KEYS for k in setup.settings):
        problems.append("Secrets belong in the keyring, not in the source settings.")
    return [p for p in problems if p is not None]


def check_device(name: str, connector: str, tz: str) -> str | None:
    """The device registry's own check of a push device (its name goes in the URL)."""
    from app.core.sources.devices import DeviceError, validate

    try:
        validate(name, connector, tz)
    except DeviceError as exc:
        return str(exc)
    return None


def destination_text(settings: Settings, paths: AppPaths, *, key_saved: bool, pushed: bool) -> str:
    """Where the readings of every source go, in plain words (delivery is app-wide).

    Args:
        settings: the app's settings (EnergyCAP connection, API, outbox folder).
        paths: the meterbridge home (the default outbox).
        key_saved: whether an EnergyCAP API key is saved.
        pushed: a pushing device (its readings wait in the journal when no
            connection is set) rather than a pulled source (written to the outbox).
    """
    ecap = settings.energycap
    url = ecap.url.strip()
    if not url and pushed:
        return ("No EnergyCAP connection is set: the readings devices push are kept in the "
                "journal and delivered once the connection is set in Settings.")  # fmt: skip
    if not url:
        folder = Path(settings.outbox_dir).expanduser() if settings.outbox_dir else paths.outbox_dir
        return ("No EnergyCAP connection is set: the readings of every source are written as "
                f"EnergyCAP import files (CSV + profile) to the outbox folder {folder}, "
                "to import by hand.")  # fmt: skip
    text = (f"The readings of every source go to EnergyCAP at {url} through the "
            f"{API_NAMES.get(ecap.api, ecap.api)}; reading times mark the interval "
            f"{ecap.time_label}.")  # fmt: skip
    if not key_saved:
        text += " No API key is saved yet: nothing is delivered until one is saved in Settings."
    return text


def save_source(
    setup: SourceSetup,
    paths: AppPaths,
    secrets: SecretStore,
    secret_values: dict[str, str] | None = None,
    *,
    replaces: str | None = None,
) -> Path:
    """Store the secrets, save pulled kinds as jobs, and record the source.

    Args:
        setup: the source.
        paths: the meterbridge home.
        secrets: where secrets go (never a file).
        secret_values: ``password`` (SFTP) or ``client_secret`` (Verdigris), if
            given; blank keeps the secret saved for the source being replaced.
        replaces: the name of the source this one replaces (an edit), if any.

    Raises:
        ValueError: listing what is wrong with the setup (or a name already taken).
        NoKeyringError: a secret was given but no secure keyring exists.
    """
    problems = check_setup(setup) or _name_taken(setup, paths, replaces)
    if problems:
        raise ValueError(" ".join(problems))
    old = find_source(replaces, paths) if replaces else None
    values = {k: v for k, v in (secret_values or {}).items() if v}
    if old is not None:
        values = _kept_secrets(old, setup, secrets, values)
    if setup.kind == "verdigris":
        _save_verdigris(setup, paths, secrets, values.get("client_secret", ""))
    elif setup.kind == "uk-hh-sftp":
        _save_sftp(setup, paths, secrets, values.get("password", ""))
    elif setup.kind in JOB_KINDS:
        _save_folder(setup, paths)
    elif old is not None and setup.kind in PUSH_KINDS:
        _retune_device(setup, paths, secrets)
    if replaces and replaces != setup.name:
        _drop_job(replaces, paths)
    path = sources_file(paths.config_dir)
    gone = {setup.name, replaces}
    write_sources(path, [s for s in load_sources(path) if s.name not in gone] + [setup])
    if old is not None and secret_entry(old) != secret_entry(setup):
        forget_unused_secret(secret_entry(old), setup.name, paths, secrets)
    return path


def _name_taken(setup: SourceSetup, paths: AppPaths, replaces: str | None) -> list[str]:
    """A new name must not be another source's (or a job's the CLI saved)."""
    if setup.name == replaces:
        return []
    from app.core.pulls.jobs import JobStore

    jobs = paths.data_dir / "jobs.sqlite3"
    taken = find_source(setup.name, paths) is not None
    if setup.kind in JOB_KINDS and jobs.exists():
        taken = taken or setup.name in {j.name for j in JobStore(jobs).list()}
    if not taken:
        return []
    return [f"A source named {setup.name!r} exists already: choose another name or edit it."]


def _kept_secrets(
    old: SourceSetup, new: SourceSetup, secrets: SecretStore, values: dict[str, str]
) -> dict[str, str]:
    """Blank secret fields on an edit keep the saved secret (moved if the login changed)."""
    old_name, new_name = secret_entry(old), secret_entry(new)
    key = "client_secret" if new.kind == "verdigris" else "password"
    if key in values or old_name is None or new_name is None or old.kind != new.kind:
        return values
    saved = secrets.get(old_name) if old_name != new_name else None
    return {**values, key: saved} if saved else values


def _save_verdigris(setup: SourceSetup, paths: AppPaths, secrets: SecretStore, secret: str) -> None:
    from app.core.pulls.verdigris_auth import secret_name
    from app.core.pulls.verdigris_pull import VerdigrisConfig

    s = setup.settings
    config = VerdigrisConfig(
        client_id=s["client_id"],
        circuits=list(s.get("ids", [])),
        interval=s.get("interval", "15m"),
        kinds=[s.get("measure", "energy")],
        timezone=s.get("timezone", ""),  # the picked circuits' building zone, when one
    )
    for key in ("api_url", "auth_url"):  # set under Advanced in the wizard (else the defaults)
        if s.get(key):
            setattr(config, key, str(s[key]))
    config.validate()
    if secret:
        secrets.set(secret_name(config.client_id), secret)
    _save_job(setup, paths, "verdigris", config.to_dict())


def _save_sftp(setup: SourceSetup, paths: AppPaths, secrets: SecretStore, password: str) -> None:
    from app.core.pulls.sftp.poll import SftpConfig, SftpFolder, password_name

    s = setup.settings
    options = {"tz": s.get("tz", "Europe/London")}
    if s.get("layout"):
        options["layout"] = s["layout"]
    archive = str(s.get("archive", ""))
    folders = [
        SftpFolder(path=f, connector=setup.connector, options=dict(options), archive=archive)
        for f in s.get("folders", [])
    ]
    config = SftpConfig(
        host=s["host"],
        user=s["user"],
        folders=folders,
        port=int(s.get("port", 22)),
        key_file=str(s.get("key_file", "")),  # a private key (the password is its passphrase)
        host_key_fingerprint=s.get("host_key_fingerprint", ""),
    )
    if password:
        secrets.set(password_name(config.user, config.host), password)
    _save_job(setup, paths, "sftp", config.to_dict())


FOLDER_SETTINGS = frozenset({"folder", "archive", "layout"})  # not connector options


def folder_config(setup: SourceSetup) -> Any:
    """The `FolderConfig` of a local-folder source (UK HH or generic files).

    Raises:
        FolderError: a setting that cannot work (no folder, a bad archive name).
    """
    from app.core.pulls.folder import FolderConfig

    s = setup.settings
    options = {k: v for k, v in s.items() if k not in FOLDER_SETTINGS and v not in ("", None)}
    if s.get("layout"):
        options["layout"] = s["layout"]
    config = FolderConfig(path=str(s.get("folder", "")), connector=setup.connector,
                          options=options, archive=str(s.get("archive", "")))  # fmt: skip
    config.validate()
    return config


def _save_folder(setup: SourceSetup, paths: AppPaths) -> None:
    from app.core.pulls.folder import FolderError

    try:
        config = folder_config(setup)
    except FolderError as exc:
        raise ValueError(f"{setup.name}: {exc}") from None
    _save_job(setup, paths, "folder", config.to_dict())


def restore_folder_jobs(paths: AppPaths) -> list[str]:
    """Give local-folder sources recorded before folders were watched their job.

    Returns the names of the jobs made (a record that cannot become a job,
    e.g. its folder setting is empty, is left as it is and logged).
    """
    from app.core.pulls.jobs import JobStore

    records = [s for s in load_sources(sources_file(paths.config_dir))
               if JOB_KINDS.get(s.kind) == "folder"]  # fmt: skip
    if not records:
        return []
    have = {j.name for j in JobStore(paths.data_dir / "jobs.sqlite3").list()}
    made = []
    for setup in (s for s in records if s.name not in have):
        try:
            _save_folder(setup, paths)
        except ValueError as exc:
            log.warning("local folder source %s not watched: %s", setup.name, exc)
            continue
        made.append(setup.name)
    return made


def _retune_device(setup: SourceSetup, paths: AppPaths, secrets: SecretStore) -> None:
    """An edited push device keeps its name and token; its time zone follows the edit."""
    from app.core.sources.devices import DeviceRegistry

    registry = DeviceRegistry(paths.config_dir / "devices.json", None, secrets)
    device = registry.find(setup.name)
    if device is None:
        raise ValueError(f"The device {setup.name!r} is no longer registered: remove this "
                         "source and add it again to get a new address and token.")  # fmt: skip
    tz = str(setup.settings.get("tz") or device.tz)
    if device.tz != tz:
        registry.update(setup.name, tz=tz)  # checked like `device set --tz`; token kept


def _drop_job(name: str, paths: AppPaths) -> None:
    from app.core.pulls.jobs import JobStore

    jobs = paths.data_dir / "jobs.sqlite3"
    store = JobStore(jobs)
    if name in {j.name for j in store.list()}:
        store.delete(name)


def _save_job(setup: SourceSetup, paths: AppPaths, kind: str, config: dict[str, Any]) -> None:
    from app.core.pulls.jobs import JobStore

    interval = timedelta(minutes=setup.interval_minutes)
    store = JobStore(paths.data_dir / "jobs.sqlite3")
    store.save(setup.name, kind, config, interval, datetime.now(UTC))
