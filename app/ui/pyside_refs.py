"""Work around PySide6 6.12.0 losing references to None, True and False on Python 3.11.

The PySide6 6.12.0 wheels (``cp310-abi3``) hand back None from void methods and
True from ``Signal.emit()`` without counting the reference, as if the objects
were immortal (they are from Python 3.12 on, PEP 683). On Python 3.11 every such
call lowers their reference count by one; the interpreter aborts ("deallocating
None" / "deallocating True or False") once it reaches zero: after about 8,000
signal emits in the running app (its True had ~7,900 references), hours in the
tray. Measured: ``tests/ui/test_pyside_refs.py``. The same failure in another abi3
extension: https://github.com/vllm-project/vllm/pull/49950.

`guard()` gives the three objects a reference count no run can use up, which is
what 3.12 does; they are never freed anyway. Call it once before Qt starts.
"""

from __future__ import annotations

import ctypes
import sys

PAD = 1 << 40  # ~1.1e12: at 1,000 lost references a second, 35 years
_guarded = False


def guard() -> bool:
    """Pad the reference counts of None, True and False (CPython < 3.12 only).

    Returns whether it did (False where they are immortal already, or done before).
    """
    global _guarded
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or _guarded:
        return False
    _guarded = True
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every object; the GIL is held here.
        ctypes.c_ssize_t.from_address(id(singleton)).value += PAD
    return True
