"""What the desktop app loads before its main window shows (start time and idle memory).

The chart library (pyqtgraph, and through it Qt's OpenGL modules) loads with the first
preview, the SFTP client (paramiko, cryptography) when an SFTP job connects: neither
is needed to show the window, and each costs start time and resident memory.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

# Loaded only when used: a preview's chart, an SFTP job.
LATER = ("pyqtgraph", "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "paramiko", "cryptography")

PROBE = (
    "import atexit, sys\n"
    f"later = {LATER!r}\n"
    "atexit.register(lambda: print('LOADED', [m for m in later if m in sys.modules]))\n"
    "from app.cli import main\n"
    "sys.exit(main(['gui', '--exit-when-shown']))\n"
)


def test_main_window_shows_without_the_chart_or_sftp_libraries(tmp_path: Path) -> None:
    env = {**os.environ, "METERBRIDGE_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("ECAP_API_KEY", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, env=env
    )
    assert "main window shown after" in done.stdout, done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = [line for line in done.stdout.splitlines() if line.startswith("LOADED ")]
    assert loaded, done.stdout[-2000:]
    assert ast.literal_eval(loaded[-1].removeprefix("LOADED ")) == []
