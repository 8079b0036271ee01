"""Small stores in one SQLite file each: WAL, each change committed.

`SqliteStore` opens a connection per call: the pull jobs, the SFTP and folder file memory
and the Verdigris bookmarks keep their tables this way. `SharedSqlite` keeps one connection
that threads share under a lock: the listener's captured bodies and the register points,
written on every push (the journal has its own, longer-lived connections).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SqliteStore:
    """A store's file: created with `schema` on first use, opened afresh for each call.

    Subclasses set `schema` (statements run once, each ``CREATE ... IF NOT EXISTS``) and may
    override `migrate` to bring a file made by an older version up to date.
    """

    schema: tuple[str, ...] = ()
    # synchronous=NORMAL: a power cut may lose the last commits (never corrupt the file);
    # for stores where that only means doing a little work again.
    relaxed_sync: bool = False

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            for statement in self.schema:
                db.execute(statement)
            self.migrate(db)

    def migrate(self, db: sqlite3.Connection) -> None:
        """Bring a file an older version made up to date (nothing by default)."""

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction (committed on success), closed afterwards."""
        db = sqlite3.connect(self.path, timeout=30)
        if self.relaxed_sync:
            db.execute("PRAGMA synchronous=NORMAL")
        try:
            with db:
                yield db
        finally:
            db.close()


class SharedSqlite:
    """A store's file behind one connection that threads share under `_lock`.

    Autocommit (each statement its own transaction unless a caller opens one), WAL, and
    synchronous=FULL: a change is on disk when the statement returns. `schema` is run
    after `migrate` on opening.
    """

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self.migrate()
        self._conn.executescript(schema)

    def migrate(self) -> None:
        """Bring a file an older version made up to date, before the schema runs (nothing)."""

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()
