"""The app's object graph, built once at start and handed to every window."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.connector_catalog import build_registry
from app.core.energycap import connection
from app.core.mapping import Codes, MappingError, MappingTable
from app.core.paths import AppPaths
from app.core.secrets import SecretStore
from app.core.settings import Settings, load_settings, save_settings
from app.core.ui_settings import UiSettings, load_ui_settings, save_ui_settings
from connectors.registry import ConnectorRegistry

log = logging.getLogger(__name__)

API_KEY_SECRET = connection.API_KEY_NAME


@dataclass
class AppContext:
    """Paths, settings, secrets and the connector registry of one running app."""

    paths: AppPaths
    settings: Settings = field(default_factory=Settings)
    prefs: UiSettings = field(default_factory=UiSettings)
    secrets: SecretStore = field(default_factory=SecretStore)
    registry: ConnectorRegistry = field(default_factory=build_registry)
    services: Any = None  # the background services, once the window attached them

    @classmethod
    def load(cls, paths: AppPaths) -> AppContext:
        """Read settings and preferences from `paths`."""
        return cls(
            paths=paths,
            settings=load_settings(paths.settings_file),
            prefs=load_ui_settings(cls.prefs_file_of(paths)),
        )

    @staticmethod
    def prefs_file_of(paths: AppPaths) -> Path:
        """Where the desktop preferences live."""
        return paths.config_dir / "ui.json"

    @property
    def jobs_file(self) -> Path:
        """The scheduler's job store."""
        return self.paths.data_dir / "jobs.sqlite3"

    def save(self) -> None:
        """Write settings and preferences."""
        save_settings(self.settings, self.paths.settings_file)
        save_ui_settings(self.prefs, self.prefs_file_of(self.paths))

    def default_codes(self) -> dict[str, Codes]:
        """The default codes per quantity from the settings."""
        return connection.default_codes(self.settings)

    def mapping_table(self) -> MappingTable:
        """The mapping in use (an empty table when none is set or it cannot be read)."""
        try:
            return connection.mapping_table(self.settings)
        except MappingError as exc:
            log.error("%s", exc)
            return MappingTable(defaults=self.default_codes())
