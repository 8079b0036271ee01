"""End to end: a year of half-hours for many meters through `meterbridge send` to the fake.

Run: .venv/bin/python tests/bench/bench_delivery.py [--meters 24] [--faults]

With --faults the fake answers 503 for a while (an outage) and 429 with
Retry-After during the run. Prints the wall time of `send`, readings/s, and
whether the fake holds every reading exactly; then sends the file again and
prints how long "nothing new" takes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fakes.energycap import FakeChannel, FakeEnergyCap

KEY = "bench-key"
SCRIPT = Path(sys.executable).parent / "meterbridge"


def write_inputs(folder: Path, meters: int) -> tuple[Path, Path, pd.DataFrame]:
    times = pd.date_range("2025-01-01 00:30", periods=17520, freq="30min", tz="UTC")
    names = [f"MPAN{m:03d}" for m in range(meters)]
    values = np.round(np.random.default_rng(7).random(meters * len(times)) * 10, 3)
    frame = pd.DataFrame(
        {
            "meter": np.repeat(names, len(times)),
            "timestamp": np.tile(times.strftime("%Y-%m-%d %H:%M"), meters),
            "kwh": values,
        }
    )
    source = folder / "year.csv"
    frame.to_csv(source, index=False)
    mapping = folder / "mapping.csv"
    mapping.write_text("source_id,channel_import_id\n" + "".join(f"{n},{n}-kWh\n" for n in names))
    return source, mapping, frame


def run_send(home: Path, source: Path, mapping: Path, url: str) -> tuple[float, str]:
    env = dict(os.environ, METERBRIDGE_HOME=str(home), ECAP_API_KEY=KEY)
    command = [str(SCRIPT), "send", str(source), "--connector", "generic", "--tz", "UTC"]
    command += ["--interval", "1800", "--ecap-url", url, "--mapping", str(mapping)]
    began = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    took = time.monotonic() - began
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:])
        raise SystemExit(f"send exited {done.returncode}")
    return took, done.stdout


def kill_then_deliver(home: Path, source: Path, mapping: Path, url: str, after_s: float) -> float:
    """Start `send`, SIGKILL it after `after_s` seconds, then run `deliver`; its wall time."""
    env = dict(os.environ, METERBRIDGE_HOME=str(home), ECAP_API_KEY=KEY)
    command = [str(SCRIPT), "send", str(source), "--connector", "generic", "--tz", "UTC"]
    command += ["--interval", "1800", "--ecap-url", url, "--mapping", str(mapping)]
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(after_s)
    child.kill()
    child.wait()
    print(f"send killed (SIGKILL) after {after_s:.0f} s, exit {child.returncode}")
    began = time.monotonic()
    done = subprocess.run([str(SCRIPT), "deliver"], env=env, capture_output=True, text=True)
    print(f"deliver: exit {done.returncode}; {done.stdout.strip().splitlines()[-1]!r}")
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=24)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--kill-after", type=float, default=0.0, help="SIGKILL send after S s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeEnergyCap(api_key=KEY) as fake:
        folder = Path(tmp)
        source, mapping, frame = write_inputs(folder, args.meters)
        for m in range(args.meters):
            name = f"MPAN{m:03d}"
            fake.add_meter(m + 1, name, [FakeChannel(1000 + m, f"{name}-kWh", "Use", "kWh", 1800)])
        home = folder / "home"
        home.mkdir()
        settings = {"version": 1, "energycap": {"backoff_cap_s": 5.0}}
        (home / "settings.json").write_text(json.dumps(settings))
        if args.faults:
            fake.inject("/api/v3/reading", status=429, times=3, retry_after=1)
            fake.outage("/api/v3/reading", status=503)
            threading.Timer(20.0, fake.clear_faults).start()
        if args.kill_after:
            took = kill_then_deliver(home, source, mapping, fake.url, args.kill_after)
        else:
            took, out = run_send(home, source, mapping, fake.url)
        got = fake.readings()
        exact = len(got) == len(frame) and np.allclose(
            np.sort(got["value"].to_numpy()), np.sort(frame["kwh"].to_numpy())
        )
        what = "deliver after the kill" if args.kill_after else "send"
        print(
            f"{what}, {len(frame):,} readings ({args.meters} meters x a year of HH): "
            f"{took:.1f} s; fake holds {len(got):,}, exact: {exact}; faults: {args.faults}"
        )
        again, out = run_send(home, source, mapping, fake.url)
        print(f"same file again: {again:.1f} s; says: {out.strip().splitlines()[-2]!r}")


if __name__ == "__main__":
    main()
