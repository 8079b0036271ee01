"""A lock file beside the journal so only one process delivers from it at a time.

The operating system drops the lock when its process dies (even by SIGKILL),
so a crashed run never blocks the next one. POSIX: ``flock``; Windows:
``msvcrt.locking`` on the first byte.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import IO


class DeliveryLock:
    """A non-blocking, process-wide exclusive lock on ``<journal>.deliver.lock``."""

    def __init__(self, journal_path: Path) -> None:
        self.path = Path(str(journal_path) + ".deliver.lock")
        self._handle: IO[bytes] | None = None

    def acquire(self, wait_s: float = 0.0, poll_s: float = 0.25) -> bool:
        """Take the lock, waiting up to `wait_s`; False when another process holds it."""
        deadline = time.monotonic() + wait_s
        while True:
            if self._try():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_s)

    def _try(self) -> bool:
        handle = self.path.open("a+b")
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()).encode("ascii"))
        handle.flush()
        self._handle = handle
        return True

    def release(self) -> None:
        """Give the lock back (closing the file releases it)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
