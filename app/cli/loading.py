"""What every command loads: the home folders and settings, the mapping, the EnergyCAP client.

Imported by `convert`, the journal commands, `pull`, `serve` and `device`; heavy modules are
imported inside the functions so that `meterbridge --help` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from app.cli import UsageError

if TYPE_CHECKING:
    from app.core.energycap.client import EnergyCapClient
    from app.core.journal.store import Journal
    from app.core.journal.views import JournalViews
    from app.core.mapping import MappingTable
    from app.core.paths import AppPaths
    from app.core.settings import EnergyCapSettings, Settings
    from app.core.sources.devices import DeviceRegistry


def load_home(args: argparse.Namespace) -> tuple[AppPaths, Settings]:
    """The home folders and settings `--home` (or METERBRIDGE_HOME) names."""
    from app.core.paths import resolve_paths
    from app.core.settings import load_settings

    paths = resolve_paths(args.home)
    return paths, load_settings(paths.settings_file)


def mapping_of(args: argparse.Namespace, settings: Settings) -> MappingTable:
    """The mapping table (`--mapping` or the settings' file); a bad file is a usage error."""
    from app.core.energycap.connection import mapping_table
    from app.core.mapping import MappingError

    try:
        return mapping_table(settings, args.mapping)
    except MappingError as exc:
        raise UsageError(str(exc)) from None


def time_label_of(args: argparse.Namespace, settings: Settings) -> str:
    """What EnergyCAP's reading times mark: `--time-label`, else the setting, else end."""
    label = args.time_label or settings.energycap.time_label or "end"
    if label not in ("end", "start"):
        raise UsageError(f"time label must be end or start, the setting says {label!r}")
    return str(label)


def energycap_client(url: str, ecap: EnergyCapSettings) -> EnergyCapClient:
    """An EnergyCAP client for `url` (API key from the keyring or ECAP_API_KEY)."""
    from app.core.energycap.connection import ConnectionSetupError, client_from_settings

    try:
        return client_from_settings(url, ecap)
    except ConnectionSetupError as exc:
        raise UsageError(str(exc)) from None


def open_journal(args: argparse.Namespace, settings: Settings) -> Journal:
    """The journal of this meterbridge home, bounded as the settings say."""
    from app.core.journal.db import JournalError
    from app.core.journal.store import Journal
    from app.core.paths import resolve_paths

    paths = resolve_paths(args.home).ensure()
    try:
        return Journal.from_settings(paths.journal_file, settings.journal)
    except JournalError as exc:
        raise UsageError(str(exc)) from None


def open_journal_views(args: argparse.Namespace) -> JournalViews:
    """The journal's read-only views (counts, receipts, lists), without pandas or delivery."""
    from app.core.journal.db import JournalError
    from app.core.journal.views import JournalViews
    from app.core.paths import resolve_paths

    paths = resolve_paths(args.home).ensure()
    try:
        return JournalViews(paths.journal_file)
    except JournalError as exc:
        raise UsageError(str(exc)) from None


def device_registry(paths: AppPaths) -> DeviceRegistry:
    """The push devices of a home (tokens in the keyring)."""
    from app.core.secrets import SecretStore
    from app.core.sources.devices import DeviceRegistry

    paths.ensure()
    return DeviceRegistry(
        paths.config_dir / "devices.json", paths.data_dir / "device-stats.json", SecretStore()
    )


def report_device_problems(devices: DeviceRegistry) -> None:
    """Print what is wrong in devices.json (the file, each bad entry and device) on stderr."""
    for problem in devices.problems:
        print(f"meterbridge: {problem}", file=sys.stderr, flush=True)
