"""The fake EnergyCAP of the listener benchmarks, in a child process (a script's helper).

Used by bench_listener.py and soak_listener.py; run as
``python tests/bench/bench_fake.py COUNT [--flaky]`` by `FakeProcess`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

KEY = "bench-key"


# -- fake EnergyCAP in a child process ----------------------------------------------------------
FULL_CHECK_EVERY = 25  # the fake validates every 25th reading request in full, the others sampled


def sampling_validation() -> None:
    """Make this process's fake EnergyCAP validate reading requests on a sample.

    The fake's validation (a strict walk of every reading, then msrest) costs
    about 0.5 ms per reading: at 50,000 readings/s it would need many cores,
    and here it shares the 2 cores with `serve`. The bench's fake therefore
    validates every 25th request in full and, of the others, the first and
    the last ReadingCreate (strict walk and msrest); every reading is still
    parsed, resolved to its channel and stored, and counted as delivered
    only then. The tests keep the full validation of every body.
    """
    from tests.fakes import energycap_readings
    from tests.fakes.energycap_validate import validate_body

    seen = [0]

    def validate(model: str, body: object) -> None:
        seen[0] += 1
        if seen[0] % FULL_CHECK_EVERY == 0 or not isinstance(body, list) or len(body) < 3:
            validate_body(model, body)
        else:
            validate_body(model, [body[0], body[-1]])

    energycap_readings.validate_body = validate  # type: ignore[assignment]


def fake_child(count: int, flaky: bool) -> None:
    """Run a fake EnergyCAP with `count` Demand/kW channels CH0000...; print its URL; on each
    stdin line print how many readings it holds; stop at EOF. `flaky`: every 3 s the next
    reading request gets 503, every 11 s one is dropped unanswered."""
    import threading

    from tests.fakes.energycap import FakeChannel, FakeEnergyCap

    sampling_validation()
    with FakeEnergyCap(api_key=KEY) as fake:
        channels = [FakeChannel(1000 + n, f"CH{n:04d}", "Demand", "kW", 60) for n in range(count)]
        fake.add_meter(1, "BENCH", channels, "UTC")
        stop = threading.Event()

        def faults() -> None:
            tick = 0
            while not stop.wait(1.0):
                tick += 1
                if tick % 3 == 0:
                    fake.inject("/api/v3/reading", status=503, times=1, retry_after=0.2)
                if tick % 11 == 0:
                    fake.inject("/api/v3/reading", status=None, times=1, drop=True)

        if flaky:
            threading.Thread(target=faults, daemon=True).start()
        print(fake.url, flush=True)
        tenant = fake.tenant
        for _line in sys.stdin:
            with tenant.lock:  # a count, not fake.readings(): that builds a frame of them all
                held = sum(len(by_time) for by_time in tenant.store.values())
            print(held, flush=True)
        stop.set()


def _lower_priority() -> None:
    if hasattr(os, "nice"):
        os.nice(10)


class FakeProcess:
    def __init__(self, count: int, flaky: bool = False) -> None:
        command = [sys.executable, __file__, str(count)]
        command += ["--flaky"] if flaky else []
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=_lower_priority,  # EnergyCAP is another machine: it yields our cores
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def readings(self) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


if __name__ == "__main__":
    fake_child(int(sys.argv[1]), "--flaky" in sys.argv[2:])
