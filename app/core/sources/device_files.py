"""The device registry's files: ``devices.json`` read and JSON files written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def read_devices(path: Path, device_type: type[T]) -> dict[str, T]:
    """The devices defined in `path`, as `device_type` (unknown fields are ignored)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    fields = set(getattr(device_type, "__dataclass_fields__"))  # noqa: B009 (a dataclass)
    devices: dict[str, T] = {}
    for item in document.get("devices", []):
        device = device_type(**{k: v for k, v in item.items() if k in fields})
        devices[str(getattr(device, "name"))] = device  # noqa: B009
    return devices


def write_json(path: Path, document: Any) -> None:
    """Write `document` to `path` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)
