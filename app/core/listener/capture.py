"""Captured push payloads: bodies a device's reader could not (fully) parse.

Kept in a small SQLite file in the data folder (WAL, synchronous=FULL: a body
is on disk before the device is answered), with the request headers, content
type, file name and form fields. A body is *held* (status ``held``: the
device was answered 202 and will not resend it, so it must never be dropped
until it is replayed into readings or the user discards it) or merely
*captured* (status ``captured``: the device was refused and resends, or the
rest of its readings were accepted) or *incomplete* (status ``incomplete``:
the body was cut short, by a connection closed or stalled mid-body or a gzip
stream ending early; the device was not answered 200, nothing of it was read
or journaled, and it is never replayed). Captured and incomplete bodies are bounded by count and
bytes (oldest removed first, each removal logged); held ones are never
evicted: when they alone fill the bounds, `keep` refuses to hold another
(`CaptureFull`). Listed and shown by `meterbridge device captures` and by
`CaptureStore.list` / `get` / `held_counts` for the GUI. Request headers that
could carry secrets (Authorization, cookies) are never stored.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.core.sqlite_store import SharedSqlite

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
    body BLOB NOT NULL,
    status TEXT NOT NULL DEFAULT 'captured',
    headers TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS captures_device ON captures (device, id);
"""
HELD = "held"
CAPTURED = "captured"
INCOMPLETE = "incomplete"  # cut short before its end: never read, never replayed
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
COLUMNS = "id, device, received_at, name, content_type, fields, reason, size, status, headers"


class CaptureFull(Exception):
    """Held bodies alone fill the store's bounds: nothing more can be held."""


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
    status: str = CAPTURED
    headers: dict[str, str] | None = None

    @property
    def held(self) -> bool:
        """Whether the device was told the body is held (it will not resend it)."""
        return self.status == HELD


@dataclass(frozen=True)
class Capture:
    """One captured payload with its body."""

    info: CaptureInfo
    body: bytes

    def text(self, limit: int = 65536) -> str:
        """The body as text (UTF-8, undecodable bytes shown as escapes), cut at `limit`."""
        return self.body[:limit].decode("utf-8", "backslashreplace")


class CaptureStore(SharedSqlite):
    """A bounded store of captured payloads."""

    def __init__(self, path: Path, *, max_count: int = 200, max_bytes: int = 50 * 2**20) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.evicted = 0
        super().__init__(path, SCHEMA)

    def migrate(self) -> None:
        """Add the status and headers columns to a store made before they existed."""
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(captures)")}
        if columns and "status" not in columns:
            self._conn.execute(
                "ALTER TABLE captures ADD COLUMN status TEXT NOT NULL DEFAULT 'captured'"
            )
        if columns and "headers" not in columns:
            self._conn.execute("ALTER TABLE captures ADD COLUMN headers TEXT NOT NULL DEFAULT '{}'")

    def keep(
        self,
        device: str,
        body: bytes,
        *,
        name: str,
        content_type: str,
        reason: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        status: str = CAPTURED,
    ) -> int:
        """Store a payload durably (committed and synced); returns its capture id.

        Raises:
            CaptureFull: when `status` is ``held`` and held bodies alone fill the bounds.
        """
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        kept = {k: str(v) for k, v in (headers or {}).items() if k.lower() not in SECRET_HEADERS}
        row = (device, now, name, content_type, json.dumps(fields or {}), reason[:2000])
        with self._lock:
            if status == HELD:
                self._check_room(len(body))
            cursor = self._conn.execute(
                "INSERT INTO captures (device, received_at, name, content_type, fields, reason,"
                " size, body, status, headers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, len(body), sqlite3.Binary(body), status, json.dumps(kept)),
            )
            capture_id = int(cursor.lastrowid or 0)
            self._evict(capture_id)
        return capture_id

    def _check_room(self, size: int) -> None:
        count, total = self._conn.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM captures WHERE status = ?", (HELD,)
        ).fetchone()
        if count + 1 > self.max_count or total + size > self.max_bytes:
            raise CaptureFull(
                f"{count} pushes ({total} bytes) are already held for mapping, the most the "
                "capture store keeps (listener.capture_max_count / capture_max_bytes): map and "
                "replay them (meterbridge device captures NAME --replay) or discard them"
            )

    def _evict(self, keep_id: int) -> None:
        while True:
            count, size = self._conn.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM captures"
            ).fetchone()
            if count <= 1 or (count <= self.max_count and size <= self.max_bytes):
                return
            oldest = self._conn.execute(
                "SELECT id, device, size FROM captures WHERE id != ? AND status != ? "
                "ORDER BY id LIMIT 1",
                (keep_id, HELD),
            ).fetchone()
            if oldest is None:
                return  # only held bodies are left: they are never evicted
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

    def list(self, device: str | None = None, *, status: str | None = None) -> list[CaptureInfo]:
        """Captures, newest first (of one device and one status when given)."""
        query = f"SELECT {COLUMNS} FROM captures WHERE 1=1"
        args: list[Any] = []
        if device is not None:
            query += " AND device = ?"
            args.append(device)
        if status is not None:
            query += " AND status = ?"
            args.append(status)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY id DESC", args).fetchall()
        return [_info(row) for row in rows]

    def held_counts(self) -> dict[str, int]:
        """How many pushes each device has held for mapping (devices with none left out)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT device, count(*) FROM captures WHERE status = ? GROUP BY device", (HELD,)
            ).fetchall()
        return {str(device): int(count) for device, count in rows}

    def get(self, capture_id: int) -> Capture | None:
        """One capture with its body, or None."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {COLUMNS}, body FROM captures WHERE id = ?", (capture_id,)
            ).fetchone()
        return None if row is None else Capture(_info(row[:10]), bytes(row[10]))

    def set_reason(self, capture_id: int, reason: str) -> None:
        """Record a held body's latest problem (after a replay that still failed)."""
        with self._lock:
            self._conn.execute(
                "UPDATE captures SET reason = ? WHERE id = ?", (reason[:2000], capture_id)
            )

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
        status=str(row[8]),
        headers=dict(json.loads(row[9] or "{}")),
    )
