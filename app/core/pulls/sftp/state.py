"""What the file pollers remember: every file seen (SFTP and local folders), pinned host keys.

SQLite in the data folder (``sftp.sqlite3`` for SFTP, ``folders.sqlite3`` for
local folders). A file is known by its place (``user@host:port`` or
``local``), folder, name, modification time, size and content hash (SHA-256):
the same bytes under the same name are never imported twice, a file rewritten
with new content is imported again, and one that could not be read is not
retried until it changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.core.sqlite_store import SqliteStore

HOST_KEYS_SCHEMA = """CREATE TABLE IF NOT EXISTS host_keys (
        host TEXT NOT NULL, port INTEGER NOT NULL, fingerprint TEXT NOT NULL,
        pinned_at TEXT NOT NULL, PRIMARY KEY (host, port))"""
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS files (
        server TEXT NOT NULL, folder TEXT NOT NULL, name TEXT NOT NULL,
        mtime INTEGER NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL,
        status TEXT NOT NULL, readings INTEGER NOT NULL DEFAULT 0, message TEXT,
        seen_at TEXT NOT NULL, PRIMARY KEY (server, folder, name, mtime, sha256))""",
)


@dataclass(frozen=True)
class FileRecord:
    """One remote file as remembered."""

    server: str
    folder: str
    name: str
    mtime: int
    size: int
    sha256: str
    status: str  # imported | rejected
    readings: int
    message: str | None


class FileMemory(SqliteStore):
    """Seen files in one SQLite file (WAL, each change committed)."""

    schema: tuple[str, ...] = SCHEMA

    def seen(self, server: str, folder: str, name: str, mtime: int, size: int) -> bool:
        """Whether this name with this mtime and size was handled already (no download)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM files WHERE server=? AND folder=? AND name=? AND mtime=? AND size=?",
                (server, folder, name, mtime, size),
            ).fetchone()
        return row is not None

    def seen_files(self, server: str, folder: str) -> set[tuple[str, int, int]]:
        """Every (name, mtime, size) handled in one folder (one query for a whole listing)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT name, mtime, size FROM files WHERE server=? AND folder=?", (server, folder)
            ).fetchall()
        return {(str(name), int(mtime), int(size)) for name, mtime, size in rows}

    def same_content(self, server: str, folder: str, name: str, sha256: str) -> bool:
        """Whether these exact bytes under this name were handled already."""
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM files WHERE server=? AND folder=? AND name=? AND sha256=?",
                (server, folder, name, sha256),
            ).fetchone()
        return row is not None

    def record(self, record: FileRecord) -> None:
        """Remember a handled file."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    record.server, record.folder, record.name, record.mtime, record.size,
                    record.sha256, record.status, record.readings, record.message,
                    datetime.now(UTC).isoformat(),
                ),
            )  # fmt: skip

    def files(self, server: str | None = None) -> list[FileRecord]:
        """Handled files, oldest first (optionally of one server)."""
        query = (
            "SELECT server, folder, name, mtime, size, sha256, status, readings, message FROM files"
        )
        args: tuple[str, ...] = ()
        if server is not None:
            query, args = query + " WHERE server=?", (server,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY seen_at, name", args).fetchall()
        return [FileRecord(*row) for row in rows]


class SftpState(FileMemory):
    """Pinned host keys and seen files of the SFTP poller in one SQLite file."""

    schema = (HOST_KEYS_SCHEMA, *SCHEMA)

    def pinned(self, host: str, port: int) -> str | None:
        """The fingerprint pinned for a server, if any."""
        with self._connect() as db:
            row = db.execute(
                "SELECT fingerprint FROM host_keys WHERE host=? AND port=?", (host, port)
            ).fetchone()
        return str(row[0]) if row else None

    def pin(self, host: str, port: int, fingerprint: str) -> None:
        """Pin (or re-pin, on the user's word) a server's host key fingerprint."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO host_keys VALUES (?,?,?,?)",
                (host, port, fingerprint, datetime.now(UTC).isoformat()),
            )
