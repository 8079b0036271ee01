"""Where meterbridge keeps its settings, journal, outbox and logs, readable by the user only.

Everything meterbridge keeps (settings, journal, captured push bodies, logs,
outbox files, tokens) is the user's business: on POSIX systems its folders
are 0700 and its files 0600, set when a home is made ready (`AppPaths.ensure`,
which also repairs an older home made world-readable) and kept so by
`private_umask`, which the entry points apply so that every file created
later is born private. Windows has no such mode bits: there the folders
under the user's profile are already private to the user.
"""

from __future__ import annotations

import contextlib
import os
import stat
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
        """Create the folders user-only (idempotent), repair looser modes, return self.

        A folder found with a looser mode (a home made before this rule) has its
        whole content made user-only once; a private one is not walked again.
        """
        for folder in (self.config_dir, self.data_dir, self.log_dir):
            loose = _loose(folder)
            private_dir(folder)
            if loose and folder not in _CHECKED:
                _CHECKED.add(folder)
                make_private(folder)
        return self


POSIX = os.name == "posix"
_CHECKED: set[Path] = set()  # folders whose contents were checked in this process


def _loose(folder: Path) -> bool:
    """True when `folder` exists with more than user permissions (POSIX)."""
    try:
        return POSIX and bool(stat.S_IMODE(folder.stat().st_mode) & 0o077)
    except OSError:
        return False


def private_umask() -> None:
    """Make every file and folder this process creates user-only (umask 077; POSIX)."""
    if POSIX:
        os.umask(0o077)


def private_dir(folder: Path) -> None:
    """Create `folder` (and parents) if needed, and make it 0700 (POSIX)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if POSIX and stat.S_IMODE(folder.stat().st_mode) != 0o700:
        with contextlib.suppress(OSError):  # not ours (a shared mount): leave it
            folder.chmod(0o700)


def private_file(path: Path, *, create: bool = False) -> None:
    """Make `path` 0600 (POSIX); with `create`, create it empty first if missing."""
    if not POSIX:
        return
    if create:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(0o600)


def make_private(folder: Path) -> None:
    """Make everything under `folder` user-only: folders 0700, files 0600 (POSIX).

    Symbolic links are not followed (a link is not ours to change).
    """
    if not POSIX:
        return
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            if not os.path.islink(os.path.join(root, name)):
                private_dir(Path(root, name))
        for name in files:
            if not os.path.islink(os.path.join(root, name)):
                private_file(Path(root, name))


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
