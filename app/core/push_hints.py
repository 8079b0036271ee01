"""EnergyCAP identities that pushed Readings-API bodies name, kept for delivery.

A Readings-API-shaped push names its channel (``channelImportId``,
``channelId`` or ``meterImportId`` + codes); the readings-json reader passes
that as ``mapping_hint``. The journal keeps readings only, so the listener
keeps the hints here (a small JSON file in the data folder, written and
fsynced before the push is acknowledged) and `serve` adds them to the mapping
for sources the user's mapping does not name.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from app.core.mapping import MappingRow, hint_rows


class HintStore:
    """Mapping hints by (source id, quantity), durable."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._hints: dict[str, dict[str, Any]] = {}
        if path.exists():
            try:
                self._hints = dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                self._hints = {}

    def add(self, hints: Any) -> bool:
        """Remember hints (a list of MappingRow-like dicts); True when something changed."""
        changed = False
        with self._lock:
            for hint in hints if isinstance(hints, list) else []:
                if not isinstance(hint, dict) or not hint.get("source_id"):
                    continue
                key = f"{hint['source_id']}\x00{hint.get('quantity') or ''}"
                if self._hints.get(key) != hint:
                    self._hints[key] = dict(hint)
                    changed = True
            if changed:
                self._write()
        return changed

    def rows(self) -> list[MappingRow]:
        """The hints as mapping rows."""
        with self._lock:
            return hint_rows(list(self._hints.values()))

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self._hints, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
