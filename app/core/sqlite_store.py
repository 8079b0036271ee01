"""A small store in one SQLite file: WAL, each change committed, one connection per call.

The pull jobs, the SFTP and folder file memory and the Verdigris bookmarks keep their tables
this way (the journal has its own, longer-lived connections).
"""

from __future__ import annotations

import sqlite3
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
