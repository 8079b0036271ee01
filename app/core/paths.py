"""Where meterbridge keeps its settings, journal, outbox and logs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "meterbridge"
HOME_ENV = "METERBRIDGE_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The folders of one meterbridge home.

    With an explicit home (``--home`` or ``METERBRIDGE_HOME``) everything lives
    under it; otherwise the per-OS platformdirs locations are used
    (``%APPDATA%`` / ``%LOCALAPPDATA%`` on Windows).
    """

    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        """The versioned JSON settings file."""
        return self.config_dir / "settings.json"

    @property
    def outbox_dir(self) -> Path:
        """Where EnergyCAP-ready files go when no connection is set."""
        return self.data_dir / "outbox"

    @property
    def journal_file(self) -> Path:
        """The SQLite journal of accepted readings."""
        return self.data_dir / "journal.sqlite3"

    def ensure(self) -> AppPaths:
        """Create the folders (idempotent) and return self."""
        for folder in (self.config_dir, self.data_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def resolve_paths(home: str | Path | None = None) -> AppPaths:
    """The paths for `home`, else ``$METERBRIDGE_HOME``, else the platform defaults."""
    chosen = home or os.environ.get(HOME_ENV)
    if chosen:
        root = Path(chosen).expanduser()
        return AppPaths(config_dir=root, data_dir=root, log_dir=root / "logs")
    return AppPaths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )
