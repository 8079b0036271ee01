"""Output piped into a reader that stops early (`meterbridge status | head`) ends quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_closed_pipe_gives_no_traceback(home: Path) -> None:
    script = Path(sys.executable).parent / "meterbridge"
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before meterbridge writes a byte
    try:
        result = subprocess.run(
            [str(script), "status", "--home", str(home)],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert "Traceback" not in result.stderr, result.stderr
    assert "BrokenPipeError" not in result.stderr
    assert result.returncode == 1
