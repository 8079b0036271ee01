"""PySide6 6.12.0 on Python 3.11 loses a reference to True per emit and to None per void
call; `app.ui.pyside_refs.guard()` keeps a long-running app from aborting on it."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
{guard}
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
class Source(QObject):
    happened = Signal()
source, widget = Source(), QWidget()
before = sys.getrefcount(True), sys.getrefcount(None)
for _ in range(20_000):
    source.happened.emit()
    widget.setUpdatesEnabled(True)
print(before[0] - sys.getrefcount(True), before[1] - sys.getrefcount(None))
"""


def _run(guard: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    code = SCRIPT.format(guard=guard)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120, check=False)  # fmt: skip


def test_twenty_thousand_emits_and_void_calls_survive_with_the_guard() -> None:
    done = _run("from app.ui.pyside_refs import guard; guard()")
    assert done.returncode == 0, done.stderr[-500:]
    lost_true, lost_none = (int(n) for n in done.stdout.split())
    assert lost_true in (0, 20_000) and lost_none in (0, 20_000)  # whatever PySide does


def test_without_the_guard_a_long_run_aborts_or_keeps_its_references() -> None:
    """Documents the PySide6 behaviour the guard is for (passes once PySide is fixed too)."""
    done = _run("")
    if done.returncode == 0:
        assert done.stdout.split() == ["0", "0"]  # fixed PySide, or Python 3.12+
    else:
        assert "deallocating" in done.stderr
