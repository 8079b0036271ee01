"""Removing a configured source (no Qt): what goes, said in words before it goes.

A source may have up to three parts: its line in ``sources.json`` (the
wizard's record), a scheduler job (pulled sources) or a device registration
(pushing devices), and a keyring secret (an SFTP password, a Verdigris client
secret, a device token). `plan_removal` finds them (also for a job or device
made with the CLI, which has no record); `remove_source` removes them. A
secret another source still uses stays. Readings already in the journal are
never touched: delivered ones stay in EnergyCAP, pending ones are still
delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.paths import AppPaths
from app.core.pulls.jobs import Job, JobStore
from app.core.secrets import SecretStore
from app.core.sources.devices import TOKEN_SECRET, DeviceRegistry
from app.core.sources.records import (
    SourceSetup,
    find_source,
    load_sources,
    secret_of,
    secret_shared,
    sources_file,
    write_sources,
)

JOURNAL_KEPT = (
    "Readings already received stay in the journal: delivered ones stay in EnergyCAP, "
    "pending ones are still delivered."
)


def source_name_of_row(row: str) -> str:
    """The source a dashboard row stands for (``push:<device>``, ``pull:<job>`` or the name)."""
    for prefix in ("push:", "pull:"):
        if row.startswith(prefix):
            return row[len(prefix) :]
    return row


@dataclass
class Removal:
    """The parts of one source that removing it takes away."""

    name: str
    record: SourceSetup | None = None
    job: str | None = None
    device: str | None = None
    secrets: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to remove: a name seen only in the journal (a file sent by hand)."""
        return self.record is None and self.job is None and self.device is None

    def lines(self) -> list[str]:
        """What goes, one plain line each (for the confirmation dialog)."""
        found = []
        if self.record is not None:
            found.append(f"its settings (the line “{self.name}” in sources.json)")
        if self.job is not None:
            found.append(f"its scheduled job “{self.job}” (it will not run again)")
        if self.device is not None:
            token = TOKEN_SECRET.format(name=self.device)
            found.append(
                f"the device registration “{self.device}” and its token “{token}” in the OS "
                "keyring: its push address and token stop working at once"
            )
        found.extend(f"the secret “{name}” in the OS keyring" for name in self.secrets)
        return found


def plan_removal(name: str, paths: AppPaths, secrets: SecretStore | None = None) -> Removal:
    """Find every part of the source called `name` (or of the row `push:`/`pull:` name)."""
    name = source_name_of_row(name)
    removal = Removal(name, record=find_source(name, paths))
    job = _job(name, paths)
    removal.job = job.name if job is not None else None
    removal.device = name if _device_registry(paths, secrets).find(name) else None
    entry = secret_of(removal.record, job)
    if entry and not secret_shared(entry, name, paths):
        removal.secrets.append(entry)
    return removal


def remove_source(name: str, paths: AppPaths, secrets: SecretStore) -> Removal:
    """Remove the source's record, job or device, and its own secret; returns what went.

    Raises:
        KeyError: nothing is configured under that name.
    """
    removal = plan_removal(name, paths, secrets)
    if removal.empty:
        raise KeyError(f"no configured source, job or device is called {removal.name!r}")
    if removal.job is not None:
        JobStore(paths.data_dir / "jobs.sqlite3").delete(removal.job)
    if removal.device is not None:
        _device_registry(paths, secrets).remove(removal.device)  # its token entry too
    for entry in removal.secrets:
        secrets.delete(entry)
    path = sources_file(paths.config_dir)
    if removal.record is not None:
        write_sources(path, [s for s in load_sources(path) if s.name != removal.name])
    return removal


def _job(name: str, paths: AppPaths) -> Job | None:
    path = paths.data_dir / "jobs.sqlite3"
    if not path.exists():
        return None
    return next((j for j in JobStore(path).list() if j.name == name), None)


def _device_registry(paths: AppPaths, secrets: SecretStore | None) -> DeviceRegistry:
    return DeviceRegistry(paths.config_dir / "devices.json", None, secrets)
