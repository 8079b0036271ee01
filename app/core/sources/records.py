"""The saved list of sources (``sources.json``) and the keyring entry each one names.

`setup` saves a source into it and `removal` takes one out; both import this module, never
each other.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.paths import AppPaths
from app.core.pulls.jobs import Job, JobStore
from app.core.secrets import SecretStore

PUSH_KINDS: frozenset[str] = frozenset({"episensor", "acurev2100", "aculink810"})
JOB_KINDS: dict[str, str] = {  # wizard kind -> scheduler job kind
    "verdigris": "verdigris",
    "uk-hh-sftp": "sftp",
    "uk-hh": "folder",
    "generic": "folder",
}
PULLED_KINDS: frozenset[str] = frozenset(JOB_KINDS)


@dataclass
class SourceSetup:
    """One configured source."""

    kind: str
    name: str
    connector: str
    settings: dict[str, Any] = field(default_factory=dict)
    mapping_file: str = ""
    interval_minutes: int = 30

    @property
    def pulled(self) -> bool:
        """Whether the scheduler pulls this source."""
        return self.kind in PULLED_KINDS


def sources_file(config_dir: Path) -> Path:
    """Where configured sources are listed."""
    return config_dir / "sources.json"


def load_sources(path: Path) -> list[SourceSetup]:
    """The configured sources (none when the file does not exist)."""
    if not path.exists():
        return []
    items = json.loads(path.read_text(encoding="utf-8"))
    field_names = SourceSetup.__dataclass_fields__
    return [SourceSetup(**{k: v for k, v in item.items() if k in field_names}) for item in items]


def find_source(name: str, paths: AppPaths) -> SourceSetup | None:
    """The configured source called `name`, if the wizard saved one."""
    found = [s for s in load_sources(sources_file(paths.config_dir)) if s.name == name]
    return found[0] if found else None


def write_sources(path: Path, setups: list[SourceSetup]) -> None:
    """Replace the list of configured sources (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([asdict(s) for s in setups], indent=2), encoding="utf-8")
    os.replace(tmp, path)


def secret_entry(setup: SourceSetup) -> str | None:
    """The keyring entry holding the source's own secret (None: it has none)."""
    s = setup.settings
    if setup.kind == "verdigris" and s.get("client_id"):
        from app.core.pulls.verdigris_auth import secret_name

        return secret_name(str(s["client_id"]))
    if setup.kind == "uk-hh-sftp" and s.get("user") and s.get("host"):
        from app.core.pulls.sftp.poll import password_name

        return password_name(str(s["user"]), str(s["host"]))
    if setup.kind in PUSH_KINDS:
        from app.core.sources.devices import TOKEN_SECRET

        return TOKEN_SECRET.format(name=setup.name)
    return None


def secret_of(record: SourceSetup | None, job: Job | None) -> str | None:
    """The secret entry of a source: from its record, or from its job's configuration."""
    if record is not None:
        return None if record.kind in PUSH_KINDS else secret_entry(record)
    if job is None:
        return None
    settings = {"client_id": job.config.get("client_id"), "user": job.config.get("user"),
                "host": job.config.get("host")}  # fmt: skip
    kind = {"verdigris": "verdigris", "sftp": "uk-hh-sftp"}.get(job.kind, job.kind)
    return secret_entry(SourceSetup(kind=kind, name=job.name, connector="", settings=settings))


def secret_shared(entry: str, name: str, paths: AppPaths) -> bool:
    """Whether another source (record or job) uses the same secret entry."""
    others = [s for s in load_sources(sources_file(paths.config_dir)) if s.name != name]
    if any(secret_entry(s) == entry for s in others):
        return True
    jobs = paths.data_dir / "jobs.sqlite3"
    listed = JobStore(jobs).list() if jobs.exists() else []
    return any(secret_of(None, j) == entry for j in listed if j.name != name)


def forget_unused_secret(
    entry: str | None, name: str, paths: AppPaths, secrets: SecretStore
) -> None:
    """Delete a secret entry no source other than `name` uses (after an edit moved it)."""
    if entry and not secret_shared(entry, name, paths):
        secrets.delete(entry)
