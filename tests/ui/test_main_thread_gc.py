"""Qt objects caught in reference cycles are freed on the GUI thread, not by a worker.

A worker converting a file allocates a lot; Python would collect cycles right there,
in the worker, and a widget in such a cycle would be destroyed off the GUI thread.
"""

from __future__ import annotations

import gc
import threading
from typing import ClassVar

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from app.ui.main_thread_gc import install


class _Cyclic(QObject):
    freed_on: ClassVar[list[str]] = []

    def __init__(self) -> None:
        super().__init__()
        self.me = self  # a cycle: only the collector frees it

    def __del__(self) -> None:
        _Cyclic.freed_on.append(threading.current_thread().name)


def test_a_cycle_holding_a_qt_object_is_freed_on_the_gui_thread(qtbot: QtBot, qapp) -> None:
    collector = install(qapp)
    assert not gc.isenabled()  # no collection wherever an allocation passes the threshold
    _Cyclic.freed_on.clear()
    _Cyclic()

    def convert() -> None:  # a worker allocating like a conversion does
        held = [(i, [i]) for i in range(300_000)]
        del held

    worker = threading.Thread(target=convert, name="converting")
    worker.start()
    worker.join()
    assert _Cyclic.freed_on == []  # the worker collected nothing
    qtbot.waitUntil(lambda: _Cyclic.freed_on != [], timeout=5_000)
    assert _Cyclic.freed_on == [threading.main_thread().name]
    assert collector.check() >= 0
