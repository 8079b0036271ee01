"""The device registry's files: ``devices.json`` read and checked, JSON files written atomically.

``devices.json`` may be edited by hand. Reading it never fails: a file that
is not JSON is reported by line and column (`DeviceFile.broken`); an entry
that is not a device (no name, not an object) is reported and kept as it is
for the next write; a device this PC cannot use (an unknown time zone, say)
is loaded with its `problem` set so the listener refuses its pushes by name
while every other device is served. Before the app rewrites a file it could
not read, the file is copied aside (`keep_broken_copy`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from app.core.sources.device_checks import device_problem

T = TypeVar("T")
NOT_STORED = frozenset({"problem"})  # worked out when read, never written


@dataclass
class DeviceFile(Generic[T]):
    """What ``devices.json`` holds: usable devices, and what is wrong in it.

    Attributes:
        devices: by name; a device with a `problem` is included (pushes refused).
        problems: one message per bad entry or device, naming the file, the device
            and the value.
        broken: the file is not JSON (a message with line and column), or None.
        unusable: entries that are not devices, written back as they are.
    """

    devices: dict[str, T] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    broken: str | None = None
    unusable: list[Any] = field(default_factory=list)


def read_devices(path: Path, device_type: type[T]) -> DeviceFile[T]:
    """The devices defined in `path`, as `device_type` (unknown fields are ignored).

    Raises:
        OSError: when the file cannot be read at all (the caller keeps what it knows).
    """
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        document = json.loads(text)
    except RecursionError:
        return DeviceFile(broken=f"{path} is not valid JSON: it is nested too deeply")
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        near = text[exc.pos : exc.pos + 30].split("\n")[0]
        return DeviceFile(broken=f"{path} is not valid JSON at {where}: {exc.msg} (at {near!r})")
    items = document.get("devices") if isinstance(document, dict) else None
    if not isinstance(items, list):
        found = f"{type(document).__name__}" if not isinstance(document, dict) else "no list"
        return DeviceFile(broken=f'{path} has {found} where {{"devices": [...]}} is expected')
    result: DeviceFile[T] = DeviceFile()
    for number, item in enumerate(items, start=1):
        _read_entry(path, number, item, device_type, result)
    return result


def _read_entry(
    path: Path, number: int, item: Any, device_type: type[T], out: DeviceFile[T]
) -> None:
    """Add entry `number` of the file to `out`: a device, or a problem."""
    name = item.get("name") if isinstance(item, dict) else None
    if not isinstance(name, str) or not name or name in out.devices:
        twice = isinstance(name, str) and name in out.devices
        why = "a duplicate of an earlier device" if twice else "not a named device"
        out.problems.append(f"{path}: entry {number} ({_shown(item)}) is {why}; it is ignored")
        out.unusable.append(item)
        return
    assert isinstance(item, dict)
    fields = set(getattr(device_type, "__dataclass_fields__")) - NOT_STORED  # noqa: B009
    try:
        device = device_type(**{k: v for k, v in item.items() if k in fields})
    except TypeError as exc:  # a required field missing
        out.problems.append(f"{path}: device {name!r} cannot be read ({exc}); it is ignored")
        out.unusable.append(item)
        return
    problem = device_problem(
        name,
        item.get("connector"),
        item.get("tz", "UTC"),
        item.get("options", {}),
        item.get("token_sha256", ""),
        item.get("expected_interval_s", 0),
    )
    if problem:
        setattr(device, "problem", problem)  # noqa: B010 (a dataclass field)
        out.problems.append(device_problem_line(path, name, problem))
    out.devices[name] = device


def device_problem_line(path: Path, name: str, problem: str) -> str:
    """The message naming the file, the device and what is wrong with it."""
    return f"{path}: device {name!r}: {problem}; its pushes are refused until it is fixed"


def _shown(item: Any) -> str:
    text = json.dumps(item, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def device_document(devices: list[dict[str, Any]], unusable: list[Any]) -> dict[str, Any]:
    """The ``devices.json`` document: the devices' stored fields, then entries kept as they were."""
    stored = [{k: v for k, v in d.items() if k not in NOT_STORED} for d in devices]
    return {"version": 1, "devices": [*stored, *unusable]}


def keep_broken_copy(path: Path) -> Path | None:
    """Copy `path` aside (``devices.json.broken-<UTC time>``) before it is rewritten."""
    if not path.exists():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    copy = path.with_name(f"{path.name}.broken-{stamp}")
    shutil.copy2(path, copy)
    return copy


@dataclass
class DeviceStats:
    """What the listener has seen of a device."""

    last_seen: str | None = None
    requests: int = 0
    readings_received: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_at: str | None = None
    next_expected: str | None = None
    recent_gaps_s: list[float] = field(default_factory=list)
    meters: list[str] = field(default_factory=list)  # "<gateway>/<meter>" keys sent so far
    skipped_params: list[str] = field(default_factory=list)  # parameters not delivered


def load_stats(path: Path | None) -> dict[str, DeviceStats]:
    """The statistics saved in ``device-stats.json`` (none when absent or unreadable)."""
    if path is None or not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return {name: DeviceStats(**value) for name, value in document.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def write_json(path: Path, document: Any) -> None:
    """Write `document` to `path` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)
