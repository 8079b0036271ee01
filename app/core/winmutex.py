"""A named Windows mutex that tells the installer meterbridge is running.

Inno Setup's ``AppMutex=meterbridge-single-instance`` checks for it so an
upgrade closes (or waits for) the running app. A no-op on other systems.
"""

from __future__ import annotations

import sys
from typing import Any

MUTEX_NAME = "meterbridge-single-instance"


def hold_app_mutex(name: str = MUTEX_NAME) -> Any:
    """Create the named mutex for the life of the process; returns its handle (or None)."""
    if sys.platform != "win32":
        return None
    import ctypes

    kernel32 = ctypes.windll.kernel32
    return kernel32.CreateMutexW(None, False, name)
