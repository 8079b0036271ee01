"""Captured push payloads: bodies a device's reader could not (fully) parse.

Kept in a small SQLite file in the data folder, bounded by count and bytes
(oldest removed first, each removal logged), listed and shown by
`meterbridge device captures` and by `CaptureStore.list` / `get` for the GUI,
so a user can build a field mapping from what a real device sends. Request
headers that could carry secrets (Authorization, the ``token`` query) are
never stored.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    received_at TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    fields TEXT NOT NULL,
    reason TEXT NOT NULL,
    size INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS captures_device ON captures (device, id);
"""


@dataclass(frozen=True)
class CaptureInfo:
    """One captured payload, without its body."""

    id: int
    device: str
    received_at: str
    name: str
    content_type: str
    fields: dict[str, str]
    reason: str
    size: int


@dataclass(frozen=True)
class Capture:
    """One captured payload with its body."""

    info: CaptureInfo
    body: bytes

    def text(self, limit: int = 65536) -> str:
        """The body as text (UTF-8, undecodable bytes shown as escapes), cut at `limit`."""
        return self.body[:limit].decode("utf-8", "backslashreplace")


class CaptureStore:
    """A bounded store of captured payloads."""

    def __init__(self, path: Path, *, max_count: int = 200, max_bytes: int = 50 * 2**20) -> None:
        self.path = path
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.evicted = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()

    def keep(
        self,
        device: str,
        body: bytes,
        *,
        name: str,
        content_type: str,
        reason: str,
        fields: dict[str, str] | None = None,
    ) -> int:
        """Store a payload; returns its capture id (oldest ones go beyond the bounds)."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        row = (device, now, name, content_type, json.dumps(fields or {}), reason[:2000])
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO captures (device, received_at, name, content_type, fields, reason,"
                " size, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, len(body), sqlite3.Binary(body)),
            )
            capture_id = int(cursor.lastrowid or 0)
            self._evict(capture_id)
        return capture_id

    def _evict(self, keep_id: int) -> None:
        while True:
            count, size = self._conn.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM captures"
            ).fetchone()
            if count <= 1 or (count <= self.max_count and size <= self.max_bytes):
                return
            oldest = self._conn.execute(
                "SELECT id, device, size FROM captures WHERE id != ? ORDER BY id LIMIT 1",
                (keep_id,),
            ).fetchone()
            self._conn.execute("DELETE FROM captures WHERE id = ?", (oldest[0],))
            self.evicted += 1
            log.warning(
                "capture %s of device %s (%s bytes) removed: captures are bounded to %s "
                "payloads / %s bytes",
                oldest[0],
                oldest[1],
                oldest[2],
                self.max_count,
                self.max_bytes,
            )

    def list(self, device: str | None = None) -> list[CaptureInfo]:
        """Captures, newest first (of one device when given)."""
        query = (
            "SELECT id, device, received_at, name, content_type, fields, reason, size FROM captures"
        )
        args: tuple[Any, ...] = ()
        if device is not None:
            query += " WHERE device = ?"
            args = (device,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY id DESC", args).fetchall()
        return [_info(row) for row in rows]

    def get(self, capture_id: int) -> Capture | None:
        """One capture with its body, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT id, device, received_at, name, content_type, fields, reason, size, body"
                " FROM captures WHERE id = ?",
                (capture_id,),
            ).fetchone()
        return None if row is None else Capture(_info(row[:8]), bytes(row[8]))

    def delete(self, capture_id: int) -> bool:
        """Forget one capture; True when it existed."""
        with self._lock:
            cursor = self._conn.execute("DELETE FROM captures WHERE id = ?", (capture_id,))
        return cursor.rowcount > 0


def _info(row: tuple[Any, ...]) -> CaptureInfo:
    return CaptureInfo(
        id=int(row[0]),
        device=str(row[1]),
        received_at=str(row[2]),
        name=str(row[3]),
        content_type=str(row[4]),
        fields=dict(json.loads(row[5])),
        reason=str(row[6]),
        size=int(row[7]),
    )
