"""Which sources' register values go raw, from the mapping file (``register`` column).

The push committer asks once per group which source ids have a mapping row
with ``register=raw`` (`RegisterModes.__call__`). The mapping file is looked
at no more than once a second and parsed again only when its modification
time or size changed, so a user editing the mapping while `serve` runs sees
the change within a second without the committer paying for it per request.
A mapping file that cannot be read or parsed keeps the last good set (the
error is logged once per change of the file): readings keep flowing the way
they did, and delivery reports the broken mapping itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.core.mapping import MappingError, load_mapping

log = logging.getLogger(__name__)

NO_RAW_SOURCES: frozenset[str] = frozenset()


class RegisterModes:
    """A callable giving the source ids whose registers are sent raw, kept fresh."""

    def __init__(
        self,
        mapping_path: Callable[[], str | Path | None],
        *,
        min_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Watch the mapping file `mapping_path()` names (asked again at every look).

        Args:
            mapping_path: gives the mapping file in use (empty or None: no mapping).
            min_interval_s: the file is looked at no more often than this.
            clock: monotonic seconds (tests pass their own).
        """
        self.mapping_path = mapping_path
        self.min_interval_s = min_interval_s
        self.clock = clock
        self._lock = threading.Lock()
        self._next_look = float("-inf")
        self._signature: tuple[str, int, int] | None = None
        self._raw = NO_RAW_SOURCES

    def __call__(self) -> frozenset[str]:
        """The source ids with ``register=raw`` in the mapping (looked at most once a second)."""
        with self._lock:
            now = self.clock()
            if now >= self._next_look:
                self._next_look = now + self.min_interval_s
                self._look()
            return self._raw

    def _look(self) -> None:
        chosen = self.mapping_path()
        if not chosen:
            self._signature, self._raw = None, NO_RAW_SOURCES
            return
        path = Path(chosen)
        try:
            stat = path.stat()
        except OSError:
            if self._signature is not None:
                log.warning("mapping file %s is gone; no register is sent raw", path)
            self._signature, self._raw = None, NO_RAW_SOURCES
            return
        signature = (str(path), stat.st_mtime_ns, stat.st_size)
        if signature == self._signature:
            return
        self._signature = signature
        try:
            self._raw = load_mapping(path).raw_sources()
        except MappingError as exc:
            log.error("register modes: %s (keeping the sources sent raw before)", exc)


def register_modes_of_file(path: str | Path | None) -> RegisterModes:
    """`RegisterModes` for a fixed mapping file path (or none)."""
    return RegisterModes(lambda: path)
