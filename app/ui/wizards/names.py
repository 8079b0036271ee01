"""Source names already in use, and a free one to suggest (checked on the wizard's first page)."""

from __future__ import annotations

from typing import Any

from app.core.sources.records import load_sources, sources_file


def taken_names(context: Any) -> set[str]:
    """Names of saved sources, scheduled jobs and registered devices."""
    paths = context.paths
    names = {s.name for s in load_sources(sources_file(paths.config_dir))}
    jobs = paths.data_dir / "jobs.sqlite3"
    if jobs.exists():
        from app.core.pulls.jobs import JobStore

        names |= {j.name for j in JobStore(jobs).list()}
    devices = paths.config_dir / "devices.json"
    if devices.exists():
        from app.core.sources.devices import DeviceRegistry

        names |= {d.name for d in DeviceRegistry(devices).all()}
    return names


def free_name(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted-2`, `wanted-3` … whichever is free."""
    if wanted not in taken:
        return wanted
    number = 2
    while f"{wanted}-{number}" in taken:
        number += 1
    return f"{wanted}-{number}"


def name_problem(name: str, taken: set[str]) -> str | None:
    """A plain sentence when `name` is taken, suggesting a free one."""
    if name not in taken:
        return None
    return f"“{name}” is the name of another source: try “{free_name(name, taken)}”."
