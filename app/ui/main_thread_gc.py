"""Python's cycle collector, run on the GUI thread only, while the app runs.

Python collects reference cycles in whichever thread is allocating when a threshold
is passed. With file conversions (pandas, pyarrow) on worker threads, that is often a
worker; a cycle holding a Qt object (a closed dialog whose connected lambdas refer to
it) would then be destroyed off the GUI thread, which Qt does not allow, and the GUI
thread can crash later. So automatic collection is switched off and a timer on the GUI
thread collects instead, with Python's own thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 1000  # one cheap check a second; no busy timer


class MainThreadCollector(QObject):
    """Collects cycles on the thread it lives on (the GUI thread), never elsewhere."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int:
        """Collect the generations whose thresholds are passed; the objects collected."""
        counts = gc.get_count()
        if counts[0] <= self._thresholds[0]:
            return 0
        generation = 0
        for level in (1, 2):
            if counts[level] > self._thresholds[level]:
                generation = level
        return gc.collect(generation)


def install(owner: QObject) -> MainThreadCollector:
    """Start collecting on `owner`'s thread (call on the GUI thread, once)."""
    found = owner.findChild(MainThreadCollector)
    return found if found is not None else MainThreadCollector(owner)
