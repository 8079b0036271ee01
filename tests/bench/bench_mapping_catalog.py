"""Benchmark: the mapping editor loads EnergyCAP's lists of a big account, GUI thread watched.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tests/bench/bench_mapping_catalog.py [N] [--freeze]

The fake EnergyCAP (loopback, its own process) holds N meters (default 20,000; every
third with a second channel). Prints the requests made, the time until the tree is
filled, and the GUI thread's longest pause (10 ms heartbeat), beside the old way's
request count (one request per meter, plus two). With ``--freeze`` the objects made at
start-up are moved out of the garbage collector's reach first (``gc.freeze()``, what an
app can do once its window is built): the pause left is then the load's own.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def serve(meters: int, ready: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    """Run the fake in a child process (its JSON work does not share the GUI's GIL)."""
    from tests.core.energycap.test_ecap_catalog import add_meters
    from tests.fakes.energycap import FakeEnergyCap

    with FakeEnergyCap(api_key="bench-key") as fake:
        add_meters(fake, meters)
        ready.put(fake.url)
        stop.wait()
        ready.put(len(fake.requests))


def main() -> int:
    """Load once and print the figures."""
    import tempfile

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.paths import resolve_paths
    from app.ui.pyside_refs import guard

    guard()  # processEvents() in a loop loses None references fast (see app/ui/pyside_refs.py)
    from app.ui.context import API_KEY_SECRET, AppContext
    from app.ui.mapping.editor import MappingEditor
    from tests.fakes.memory_keyring import installed

    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    meters = int(numbers[0]) if numbers else 20_000
    ready: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=serve, args=(meters, ready, stop), daemon=True)
    child.start()
    url = ready.get(timeout=600)
    app = QApplication([])
    with installed():
        context = AppContext.load(resolve_paths(Path(tempfile.mkdtemp())).ensure())
        context.settings.energycap.url = url
        context.secrets.set(API_KEY_SECRET, "bench-key")
        editor = MappingEditor(context)
        editor.show()
        settle = time.monotonic() + 0.5  # the first paint of the empty editor is not counted
        while time.monotonic() < settle:
            app.processEvents()
        gaps, last = [0.0], [time.monotonic()]

        def beat() -> None:
            now = time.monotonic()
            gaps.append(now - last[0])
            last[0] = now

        heartbeat = QTimer(interval=10)
        heartbeat.timeout.connect(beat)
        loaded: list[object] = []
        editor.catalog_loaded.connect(loaded.append)
        if "--freeze" in sys.argv:
            import gc

            gc.freeze()
        started = time.perf_counter()
        heartbeat.start()
        editor.fetch_catalog()
        while not loaded:
            app.processEvents()
            time.sleep(0.002)
        took = time.perf_counter() - started
        heartbeat.stop()
    stop.set()
    requests = ready.get(timeout=60)
    pause = max(gaps) * 1000
    print(f"{meters:,} meters: {requests} requests (one per meter: {meters + 2:,}), "
          f"tree filled in {took:.2f} s, longest GUI-thread pause {pause:.0f} ms"
          f"{' (start-up objects frozen)' if '--freeze' in sys.argv else ''}")  # fmt: skip
    child.join(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
