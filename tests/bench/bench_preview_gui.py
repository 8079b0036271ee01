"""Benchmark: preview of a big UK HH file while a 10 ms heartbeat timer watches the GUI thread.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_preview_gui.py [METERS] [DAYS]

Prints the readings, the time until the preview is ready, the GUI thread's longest
pause during the conversion (the first paint of the empty window is not counted) and
while showing the result, then the table model's build time and cost per cell. These
figures replace timed assertions in tests/ui/test_preview.py (a busy machine failed them).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    """Run one preview and print its figures."""
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.connector_catalog import build_registry
    from app.core.mapping import MappingTable
    from app.core.preview.process import warm_up
    from app.ui.preview.window import PreviewWindow
    from connectors.base import Source
    from tests.ui.hh_files import write_hh

    meters = int(sys.argv[1]) if len(sys.argv) > 1 else 350
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    app = QApplication([])
    path = write_hh(Path(tempfile.mkdtemp()) / "big.csv", meters, days)
    warm_up()
    window = PreviewWindow(path, build_registry().rank(Source.from_path(path)), MappingTable())
    window.show()
    clock, gaps, last, at, loaded = QElapsedTimer(), [0], [0], [0], [0]
    showing = [0]  # the longest pause once the result arrived (model swap, first paint)

    def beat() -> None:
        now = clock.elapsed()
        if loaded[0] and now - last[0] > showing[0]:
            showing[0] = now - last[0]
        elif not loaded[0] and now - last[0] > gaps[0]:
            gaps[0], at[0] = now - last[0], now
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(beat)

    def go() -> None:
        clock.start()
        heartbeat.start()
        window.start()

    window.loaded.connect(lambda _d: loaded.__setitem__(0, clock.elapsed()))
    window.settled.connect(lambda: QTimer.singleShot(50, app.quit))
    QTimer.singleShot(300, go)
    app.exec()
    rows = len(window.data.mapped) if window.data is not None else 0
    size = path.stat().st_size / 1e6
    print(f"{rows:,} readings ({size:.1f} MB file) previewed in {clock.elapsed() / 1000:.1f} s; "
          f"longest GUI-thread pause while converting {gaps[0]} ms (10 ms heartbeat), ending at "
          f"{at[0]} ms; result arrived at {loaded[0]} ms, "
          f"showing it paused {showing[0]} ms")  # fmt: skip
    if window.data is not None and window.data.columns is not None:
        model_figures(window.data.columns)
    return 0


def model_figures(columns: object) -> None:
    """The table model over the result: time to build it, and per cell read (any row)."""
    import time

    import numpy as np

    from app.ui.preview.model import COLUMN, ReadingsModel

    started = time.perf_counter()
    model = ReadingsModel(columns)  # type: ignore[arg-type]
    built = time.perf_counter() - started
    rows = np.random.default_rng(1).integers(0, model.rowCount(), 5000)
    wanted = [COLUMN[n] for n in ("source_id", "target", "time", "value")]
    started = time.perf_counter()
    for row in rows:
        for column in wanted:
            model.data(model.index(int(row), column))
    per_cell = (time.perf_counter() - started) / (len(rows) * len(wanted))
    print(f"table model built in {built * 1000:.0f} ms; {per_cell * 1e6:.1f} µs per cell read")


if __name__ == "__main__":
    sys.exit(main())
