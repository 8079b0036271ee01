"""Run `meterbridge` as a child process that may SIGKILL itself at a chosen point.

The child gets ``METERBRIDGE_CRASH_AT`` (see `app.core.delivery.send.crash_point`),
a home of its own with short retry settings, and the fake EnergyCAP's URL.
After the crash the test restarts it with `deliver` and checks the journal
and the fake against the readings of the file.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from app.core.journal.store import Journal
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

KEY = "crash-test-key"
SCRIPT = Path(sys.executable).parent / "meterbridge"
METERS = ("A1", "A2", "A3")
CHANNELS = {m: 100 + n for n, m in enumerate(METERS)}
FAST_SETTINGS = {
    "energycap": {
        "batch_size": 30,
        "max_attempts": 3,
        "backoff_base_s": 0.05,
        "backoff_cap_s": 0.2,
        "timeout_s": 5.0,
        "task_poll_s": 0.05,
    },
    "journal": {"outage_patience_s": 0.0},
}


def add_meters(fake: FakeEnergyCap) -> None:
    """The meters of the test file, each with one half-hourly kWh channel."""
    for n, meter in enumerate(METERS):
        channel = FakeChannel(CHANNELS[meter], f"{meter}-kWh", "Use", "kWh", 1800)
        fake.add_meter(n + 1, meter, [channel], "Europe/London")


def expected_readings(days: int = 2) -> pd.DataFrame:
    """channel_id, time (UTC), value for every reading of the test file (London spring day)."""
    times = pd.date_range("2026-03-29 00:30", periods=days * 48, freq="30min", tz="UTC")
    frames = [
        pd.DataFrame(
            {
                "meter": meter,
                "channel_id": CHANNELS[meter],
                "time": times,
                "value": [round(n + k * 0.01 + 0.005, 3) for k in range(len(times))],
            }
        )
        for n, meter in enumerate(METERS, start=1)
    ]
    return pd.concat(frames, ignore_index=True)


@dataclass
class Setup:
    """One crash test's home, input file and mapping."""

    home: Path
    source: Path
    mapping: Path
    expected: pd.DataFrame


def prepare(tmp: Path, settings: dict[str, object] | None = None) -> Setup:
    """Write the home (settings), the source CSV (UTC times) and the mapping."""
    home = tmp / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"version": 1, **(settings or FAST_SETTINGS)}))
    expected = expected_readings()
    source = tmp / "meters.csv"
    stamps = expected["time"].dt.strftime("%Y-%m-%d %H:%M")
    table = pd.DataFrame(
        {"meter": expected["meter"], "timestamp": stamps, "kwh": expected["value"]}
    )
    table.to_csv(source, index=False)
    mapping = tmp / "mapping.csv"
    rows = "".join(f"{m},{m}-kWh\n" for m in METERS)
    mapping.write_text("source_id,channel_import_id\n" + rows)
    return Setup(home, source, mapping, expected)


def meterbridge(
    setup: Setup,
    command: list[str],
    crash_at: str | None = None,
    *,
    with_mapping: bool = True,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run the console script with the test home and key; optionally crash at a point."""
    environment = dict(os.environ, METERBRIDGE_HOME=str(setup.home), ECAP_API_KEY=KEY, **env)
    environment.pop("METERBRIDGE_CRASH_AT", None)
    if crash_at:
        environment["METERBRIDGE_CRASH_AT"] = crash_at
    return subprocess.run(
        [str(SCRIPT), *command, *(["--mapping", str(setup.mapping)] if with_mapping else [])],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=environment,
    )


def send_args(setup: Setup, fake: FakeEnergyCap, *extra: str) -> list[str]:
    """`send` of the test file (generic connector, UTC times) to the fake."""
    return [
        "send",
        str(setup.source),
        "--connector",
        "generic",
        "--tz",
        "UTC",
        "--interval",
        "1800",
        "--ecap-url",
        fake.url,
        *extra,
    ]


def killed(done: subprocess.CompletedProcess[str]) -> bool:
    """The child killed itself (SIGKILL; TerminateProcess with code 15 on Windows)."""
    kill = getattr(signal, "SIGKILL", None)
    return done.returncode == (-kill if kill is not None else signal.SIGTERM)


def _rows(frame: pd.DataFrame) -> list[tuple[int, str, float]]:
    ordered = frame.sort_values(["channel_id", "time"])
    return [
        (int(c), pd.Timestamp(t).tz_convert("UTC").isoformat(), float(v))
        for c, t, v in zip(ordered["channel_id"], ordered["time"], ordered["value"], strict=True)
    ]


def stored(fake: FakeEnergyCap) -> list[tuple[int, str, float]]:
    """What the fake holds: (channel_id, UTC time, value), sorted."""
    return _rows(fake.readings())


def wanted(setup: Setup) -> list[tuple[int, str, float]]:
    """The file's readings in the same shape as `stored`."""
    return _rows(setup.expected)


def values_ever_sent(fake: FakeEnergyCap) -> set[tuple[int, str, float]]:
    """(channel, time, value) of every reading in every request the fake received."""
    seen: set[tuple[int, str, float]] = set()
    ids = {f"{m}-kWh": c for m, c in CHANNELS.items()}
    for request in fake.requests:
        body = request.json
        if request.path == "/api/v3/reading" and isinstance(body, list):
            for item in body:
                for r in item["readings"]:
                    when = pd.Timestamp(r["time"]).tz_convert("UTC").isoformat()
                    seen.add((ids[item["channelImportId"]], when, float(r["value"])))
        if request.path == "/api/v3/import/reading" and isinstance(body, dict):
            seen |= _import_rows(base64.b64decode(body["data"]).decode("utf-8"), ids)
    return seen


def _import_rows(text: str, ids: dict[str, int]) -> set[tuple[int, str, float]]:
    rows = set()
    for line in text.splitlines()[1:]:
        import_id, stamp, value, *_ = line.split(",")
        when = pd.Timestamp(stamp).tz_convert("UTC").isoformat()
        rows.add((ids[import_id], when, float(value)))
    return rows


def file_values(setup: Setup) -> set[tuple[int, str, float]]:
    """(channel, time, value) of every reading of the file."""
    frame = setup.expected
    return {
        (int(c), t.isoformat(), float(v))
        for c, t, v in zip(frame["channel_id"], frame["time"], frame["value"], strict=True)
    }


def journal_report(setup: Setup) -> tuple[str, dict[str, int], int]:
    """(integrity_check, counts per state, readings confirmed by batch receipts)."""
    journal = Journal(setup.home / "journal.sqlite3")
    try:
        receipts = journal.receipts(10_000)
        return journal.integrity_check(), journal.counts(), sum(r["confirmed"] for r in receipts)
    finally:
        journal.close()
