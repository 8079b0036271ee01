"""Watch a local folder (no Qt): new or changed files once, never a half-written one.

A folder job lists the folder's files (not its subfolders; hidden, temporary
and partial-download names are ignored), oldest first, and hands each to
`app.core.pulls.file_intake.take_file`, the road SFTP pulls take: a file known by
(name, mtime, size, SHA-256) is never sent again; a changed file is. A file
still being written is left for the next run: its size or modification time
changed between two looks (a short settle for files touched in the last
minute, and again after reading), or another program holds it locked. A file
no connector can read is named and the others go on. The user's files are
never deleted; if asked, imported files are moved into an archive subfolder.

Links are not followed out of the watched folder: a symbolic link to a file
elsewhere is named in the run's warnings and never read (nor quoted), and a
file is opened without following a link swapped in after the listing. File
names are shown with control characters escaped (`connectors.base.printable`),
so a dropped name holding terminal escapes cannot reach the terminal as such.
"""

from __future__ import annotations

import fnmatch
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path, PurePath
from typing import Any

from app.core.error_kinds import MISSING, KindedError, kind_of
from app.core.pulls.file_intake import (
    FetchError,
    FileNotReady,
    IntakeReport,
    Listed,
    Reading,
    take_file,
)
from app.core.pulls.sftp.state import FileMemory
from app.core.pulls.submit import Submitter
from connectors.base import printable
from connectors.registry import ConnectorRegistry

PLACE = "local"  # how local files are remembered (SFTP files: user@host:port)
FRESH_S = 60.0  # files modified this recently get a second look after `settle_s`
IGNORED = (".*", "~*", "*.tmp", "*.part", "*.partial", "*.crdownload", "*.filepart", "*.!ut")


class FolderError(KindedError):
    """The folder cannot be used (missing, not a folder, not readable); `kind` says which."""


@dataclass
class FolderConfig:
    """A watched local folder (saved as a ``folder`` job)."""

    path: str
    connector: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)  # connector options (tz, layout ...)
    pattern: str = "*"
    archive: str = ""  # subfolder imported files are moved to; empty: leave them
    settle_s: float = 2.0  # between the two looks at a freshly modified file
    min_age_s: float = 0.0  # files modified more recently are left for the next run
    more_paths: list[str] = field(default_factory=list)  # further folders, same settings

    def folders(self) -> list[Path]:
        """Every watched folder, absolute, each once (`path` first)."""
        found: list[Path] = []
        for text in [self.path, *self.more_paths]:
            folder = Path(text).expanduser().resolve()
            if folder not in found:
                found.append(folder)
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FolderConfig:
        """Build from saved JSON (unknown keys ignored)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the job store."""
        return asdict(self)

    def validate(self) -> None:
        """Check the settings.

        Raises:
            FolderError: naming the setting and what it accepts.
        """
        if not self.path.strip() or any(not p.strip() for p in self.more_paths):
            raise FolderError("choose the folder the files arrive in")
        archive = PurePath(self.archive)
        if self.archive and (archive.is_absolute() or ".." in archive.parts):
            raise FolderError(f"archive {self.archive!r}: give a subfolder name such as 'imported'")
        for name in ("settle_s", "min_age_s"):
            if getattr(self, name) < 0:
                raise FolderError(f"{name} {getattr(self, name)}: give 0 or more seconds")


def check_archive(name: str) -> str | None:
    """The problem with an archive subfolder name (None: fine; empty: no archive)."""
    path = PurePath(name.replace("\\", "/"))
    if name and (path.is_absolute() or name.startswith("/") or ".." in path.parts):
        return f"archive {name!r}: give a subfolder name such as 'imported'"
    return None


def poll_folder(
    config: FolderConfig,
    memory: FileMemory,
    registry: ConnectorRegistry,
    submit: Submitter,
    *,
    cancelled: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], Any] = time.sleep,
) -> IntakeReport:
    """Import every new or changed file of the folders once.

    Every folder is listed before any file is read, so a missing one stops
    the run before anything is imported.

    Raises:
        FolderError: a folder is missing or cannot be listed; nothing was imported.
    """
    config.validate()
    report = IntakeReport()
    reading = Reading(registry, config.connector, config.options)
    listings = [(folder, _listing(folder, config, report.warnings)) for folder in config.folders()]
    seen_files = {f: memory.seen_files(PLACE, str(f)) for f, _ in listings}  # one query a folder
    new = [
        (p, st) for f, files in listings for p, st in files
        if (p.name, st.st_mtime_ns, st.st_size) not in seen_files[f]
    ]  # fmt: skip
    report.skipped += sum(len(files) for _, files in listings) - len(new)  # not looked at again
    for path, looked in _settled(_old_enough(new, config, report), config.settle_s, sleep, report):
        if cancelled():
            break
        folder = path.parent
        listed = Listed(PLACE, str(folder), path.name, looked.st_mtime_ns, looked.st_size)
        fetch = partial(read_when_still, path, looked, folder)
        label = printable(str(path))
        record = take_file(
            listed, fetch, label, memory, reading, submit, report, seen_files[folder]
        )
        if record is not None and record.status == "imported" and config.archive:
            _archive(path, folder / config.archive, report)
    return report


def check_folders(config: FolderConfig) -> None:
    """Check the settings and that every folder can be listed (nothing is read).

    Raises:
        FolderError: a bad setting, or a folder that is missing or cannot be listed.
    """
    config.validate()
    for folder in config.folders():
        _listing(folder, config)


def _old_enough(
    files: list[tuple[Path, os.stat_result]], config: FolderConfig, report: IntakeReport
) -> list[tuple[Path, os.stat_result]]:
    """Files modified in the last `min_age_s` seconds are left for the next run."""
    if config.min_age_s <= 0:
        return files
    youngest_ns = (time.time() - config.min_age_s) * 1e9
    kept = [(p, st) for p, st in files if st.st_mtime_ns <= youngest_ns]
    report.waiting += len(files) - len(kept)
    return kept


def _listing(
    folder: Path, config: FolderConfig, warnings: list[str] | None = None
) -> list[tuple[Path, os.stat_result]]:
    shown = printable(str(folder))
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        raise FolderError(f"the folder {shown} does not exist", kind=MISSING) from None
    except NotADirectoryError:
        raise FolderError(f"{shown} is not a folder") from None
    except OSError as exc:
        raise FolderError(
            f"cannot list the folder {shown}: {exc.strerror or exc}", kind=kind_of(exc)
        ) from exc
    files = []
    for entry in entries:
        name = entry.name
        if any(fnmatch.fnmatch(name, p) for p in IGNORED) or not fnmatch.fnmatch(
            name, config.pattern
        ):
            continue
        try:
            if entry.is_symlink() and not inside(Path(entry.path), folder):
                if warnings is not None:
                    warnings.append(f"{printable(entry.path)}: {LINK_OUT}")
                continue
            if entry.is_file(follow_symlinks=True):
                files.append((Path(entry.path), os.stat(entry.path)))
        except OSError:  # vanished between the listing and the look
            continue
    return sorted(files, key=lambda f: (f[1].st_mtime_ns, f[0].name))


LINK_OUT = "a link to a file outside the watched folder; not followed, not read"


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, links resolved, is in `folder` (itself resolved)."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a loop of links
        return False


def _settled(
    files: list[tuple[Path, os.stat_result]],
    settle_s: float,
    sleep: Callable[[float], Any],
    report: IntakeReport,
) -> list[tuple[Path, os.stat_result]]:
    """Look again at files modified in the last minute; those that changed are left."""
    recent_since = time.time() - FRESH_S
    if settle_s <= 0 or not any(s.st_mtime_ns / 1e9 > recent_since for _, s in files):
        return files
    sleep(settle_s)
    kept = []
    for path, looked in files:
        try:
            again = path.stat()
        except OSError:
            continue
        if _unchanged(looked, again):
            kept.append((path, looked))
        else:
            report.waiting += 1
            report.warnings.append(
                f"{printable(str(path))} is still being written; left for the next run"
            )
    return kept


def _unchanged(first: os.stat_result, second: os.stat_result) -> bool:
    return (first.st_size, first.st_mtime_ns) == (second.st_size, second.st_mtime_ns)


def read_when_still(path: Path, looked: os.stat_result, folder: Path | None = None) -> bytes:
    """The file's bytes, if it is not locked and did not change since `looked`.

    With `folder`, a path that leads out of it (a link swapped in since the
    listing) is refused, and the final file is opened without following links.

    Raises:
        FileNotReady: locked, not readable yet, or changed while being read.
        FetchError: it vanished, leads out of `folder`, or cannot be read.
    """
    shown = printable(str(path))
    try:
        if folder is not None and not inside(path, folder):
            raise FetchError(f"{shown}: {LINK_OUT}")
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path.resolve(), flags)
        with os.fdopen(fd, "rb") as handle:
            _not_locked(handle.fileno(), shown)
            data = handle.read()
            after = os.fstat(handle.fileno())
    except FileNotFoundError:
        raise FetchError(f"{shown} vanished before it could be read", kind=MISSING) from None
    except PermissionError as exc:
        raise FileNotReady(
            f"{shown} is locked or not readable ({exc.strerror or exc}); left for the next run"
        ) from None
    except OSError as exc:
        raise FetchError(f"cannot read {shown}: {exc.strerror or exc}", kind=kind_of(exc)) from exc
    if not _unchanged(looked, after) or len(data) != looked.st_size:
        raise FileNotReady(f"{shown} is still being written; left for the next run")
    return data


def _not_locked(fd: int, path: str) -> None:
    """Refuse a file another program holds an exclusive lock on (a writer still at it).

    On Windows a writer that shares no reading makes `open` itself fail
    (PermissionError, handled by the caller).
    """
    if sys.platform == "win32":
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise FileNotReady(f"{path} is locked by another program; left for the next run") from None
    fcntl.flock(fd, fcntl.LOCK_UN)


def _archive(path: Path, archive: Path, report: IntakeReport) -> None:
    """Move an imported file into the archive subfolder (a suffix avoids overwriting)."""
    try:
        archive.mkdir(exist_ok=True)
        target = archive / path.name
        number = 1
        while target.exists():
            target = archive / f"{path.stem}-{number}{path.suffix}"
            number += 1
        path.rename(target)
        report.archived += 1
    except OSError as exc:
        report.warnings.append(
            printable(f"imported {path.name} but could not move it to {archive}: {exc}")
        )
