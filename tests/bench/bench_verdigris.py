"""Benchmark: 30 days x 40 circuits x (kWh + kW) at 15 minutes, Verdigris → EnergyCAP.

Runs `meterbridge pull verdigris` three times (as three runs back to back)
against the loopback Verdigris fake (5 requests/s, 1,500 points, token quota)
and the fake EnergyCAP, and prints the wall time of each run, the requests,
the token requests and what arrived, next to the floor the rate limit sets
(requests / 5 per second).

    .venv/bin/python -m tests.bench.bench_verdigris
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta

from app.cli import main
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.fakes.verdigris import FakeVerdigris

KEY = "bench-key"
END = datetime(2026, 11, 20, tzinfo=UTC)


def run() -> None:
    """Three pulls; print the figures."""
    home = tempfile.mkdtemp(prefix="mb-bench-")
    os.environ.update(METERBRIDGE_HOME=home, ECAP_API_KEY=KEY, VERDIGRIS_CLIENT_SECRET="s3cret")
    with FakeVerdigris() as vg, FakeEnergyCap(api_key=KEY) as ecap:
        for n, circuit in enumerate(vg.circuits):
            channels = [FakeChannel(1000 + n, f"E{circuit}", "Use", "kWh", 900),
                        FakeChannel(2000 + n, f"P{circuit}", "Demand", "kW", 900)]  # fmt: skip
            ecap.add_meter(n + 1, f"verdigris:circuit:{circuit}", channels, "UTC")
        for number, until in enumerate((END, END, END + timedelta(hours=2)), start=1):
            before = len(vg.data_requests)
            start = time.perf_counter()
            code = main([
                "pull", "verdigris", "--client-id", vg.client_id,
                "--circuits", ",".join(vg.circuits), "--interval", "15m",
                "--until", until.isoformat(), "--backfill-days", "30",
                "--auth-url", vg.token_url, "--api-url", vg.url, "--ecap-url", ecap.url,
            ])  # fmt: skip
            took = time.perf_counter() - start
            requests = len(vg.data_requests) - before
            print(f"run {number}: exit {code}, {took:.1f} s, {requests} data requests "
                  f"(rate-limit floor {requests / 5:.1f} s)")  # fmt: skip
        arrived = len(ecap.readings())
        print(f"arrived in EnergyCAP: {arrived} readings (expected {40 * 2 * (30 * 96 + 8)})")
        print(f"token requests: {len(vg.token_times)}; HTTP statuses: {sorted(set(vg.statuses))}")


if __name__ == "__main__":
    run()
