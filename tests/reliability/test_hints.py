"""Readings-API JSON identities survive the journal: `send`, a crash + `deliver`, `serve`.

A Readings-API body addresses its readings by channelImportId, channelId or
meterImportId (+ codes). Those identities are journaled with the readings
(same transaction) and applied at delivery, so the readings land on the
channels the body named, whichever road they took.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from app.core.delivery.engine import deliver_pending
from app.core.energycap.client import EnergyCapClient, RetryPolicy
from app.core.journal.store import Journal
from app.core.mapping import MappingTable, parse_mapping_csv
from app.core.settings import EnergyCapSettings
from connectors.base import make_readings
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.ports import free_port
from tests.reliability.harness import FAST_SETTINGS, KEY, Setup, killed, meterbridge

BODY = Path(__file__).resolve().parents[1] / "data" / "generic" / "readings_api.json"
# What the body holds, by the channel it names (see tests/data/generic/readings_api.json).
EXPECTED = {
    11: [("2024-11-03T05:30:00+00:00", 1.5), ("2024-11-03T06:30:00+00:00", 2.5),
         ("2024-11-03T07:00:00+00:00", 0.0)],
    21: [("2024-10-27T00:00:00+00:00", 50.25), ("2024-10-27T01:00:00+00:00", 51.75)],
    42: [("2025-11-02T06:15:00+00:00", -3.0)],
}  # fmt: skip


@pytest.fixture
def ecap() -> Iterator[FakeEnergyCap]:
    """The fake with the channels the body names (and a decoy under a source id)."""
    with FakeEnergyCap(api_key=KEY) as energycap:
        yield _with_meters(energycap)


def _with_meters(energycap: FakeEnergyCap) -> FakeEnergyCap:
    energycap.add_meter(1, "M1", [FakeChannel(11, "C11", "Use", "kWh", 1800)], "America/New_York")
    energycap.add_meter(2, "M2", [FakeChannel(21, "C21", "Temperature", "F", 3600)], "UTC")
    energycap.add_meter(4, "M4", [FakeChannel(42, "C42", "Demand", "kW", 900)], "UTC")
    # A meter whose import id is "C11": without the hints, C11's readings would land here.
    energycap.add_meter(9, "C11", [FakeChannel(91, "X91", "Use", "kWh", 1800)], "UTC")
    return energycap


def arrived(fake: FakeEnergyCap, channel_id: int) -> list[tuple[str, float]]:
    frame = fake.readings_for(channel_id)
    return [
        (pd.Timestamp(t).tz_convert("UTC").isoformat(), round(float(v), 6))
        for t, v in zip(frame["time"], frame["value"], strict=True)
    ]


def assert_all_arrived(fake: FakeEnergyCap) -> None:
    for channel, rows in EXPECTED.items():
        assert arrived(fake, channel) == rows, channel
    assert fake.readings_for(91).empty  # nothing went to the meter named like the channel


def setup_home(tmp_path: Path) -> Setup:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps({"version": 1, **FAST_SETTINGS}))
    source = tmp_path / "body.json"
    shutil.copy(BODY, source)
    return Setup(home, source, tmp_path / "unused.csv", pd.DataFrame())


def send_command(setup: Setup, fake: FakeEnergyCap) -> list[str]:
    return ["send", str(setup.source), "--api", "readings", "--ecap-url", fake.url]


def test_send_delivers_to_the_channels_the_body_names(tmp_path: Path, ecap) -> None:
    setup = setup_home(tmp_path)
    done = meterbridge(setup, send_command(setup, ecap), with_mapping=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert_all_arrived(ecap)
    sent = [r.json for r in ecap.requests if r.method == "POST" and r.path == "/api/v3/reading"]
    keys = {k for body in sent for item in body for k in item if k.endswith("Id")}
    assert keys == {"channelImportId", "channelId", "meterImportId"}


def test_sigkill_after_journaling_then_deliver_keeps_the_identities(tmp_path: Path, ecap) -> None:
    setup = setup_home(tmp_path)
    command = send_command(setup, ecap)
    crashed = meterbridge(setup, command, "after_journal_commit", with_mapping=False)
    assert killed(crashed), crashed.stdout + crashed.stderr
    assert ecap.readings().empty
    resumed = meterbridge(setup, ["deliver"], with_mapping=False)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert_all_arrived(ecap)
    journal = Journal(setup.home / "journal.sqlite3")
    assert journal.counts()["confirmed"] == 6 and journal.counts()["pending"] == 0
    journal.close()


def test_the_users_mapping_wins_over_a_hint(tmp_path: Path, ecap: FakeEnergyCap) -> None:
    ecap.add_meter(5, "M5", [FakeChannel(12, "C12", "Use", "kWh", 1800)], "UTC")
    journal = Journal(tmp_path / "journal.sqlite3")
    times = pd.date_range("2026-03-29T00:30Z", periods=3, freq="30min")
    readings = make_readings(source_id="C11", time=times, value=[1.0, 2.0, 3.0], interval_s=1800)
    hint = {"source_id": "C11", "quantity": "kWh", "channel_import_id": "C11"}
    journal.accept(readings, source="readings-json", hints=[hint])
    journal.accept(readings.assign(source_id="42"), source="other", hints=[])
    journal.close()
    journal = Journal(tmp_path / "journal.sqlite3")  # the hints are on disk, not in memory
    assert [r.channel_import_id for r in journal.hints_for(["readings-json"])["readings-json"]] == [
        "C11"
    ]
    mapping = parse_mapping_csv("source_id,channel_import_id\nC11,C12\n", "mapping.csv")
    client = EnergyCapClient(ecap.url, KEY, retry=RetryPolicy(2, 0.01, 0.02))
    settings = EnergyCapSettings(batch_size=40, backoff_base_s=0.01, backoff_cap_s=0.05)
    report = deliver_pending(journal, client, settings, mapping)
    journal.close()
    assert [v for _, v in arrived(ecap, 12)] == [1.0, 2.0, 3.0]  # the user's row
    assert arrived(ecap, 11) == []
    # Source "other" has no hints: its "42" goes to the meter import id "42" (refused).
    assert report.rejected == 3


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, METERBRIDGE_HOME=str(home), ECAP_API_KEY=KEY)
    command = [sys.executable, "-m", "app", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


@pytest.fixture
def served(tmp_path: Path, ecap: FakeEnergyCap) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    home = setup_home(tmp_path).home
    added = cli(home, "device", "add", "nuoz", "--connector", "readings")
    assert added.returncode == 0, added.stderr
    token = next(x.split()[-1] for x in added.stdout.splitlines() if x.startswith("token"))
    port = free_port()
    env = dict(os.environ, METERBRIDGE_HOME=str(home), ECAP_API_KEY=KEY)
    command = [sys.executable, "-m", "app", "serve", "--listen", f"127.0.0.1:{port}"]
    command += ["--ecap-url", ecap.url, "--api", "readings"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert process.stdout is not None
        assert "listening on" in process.stdout.readline()
        yield f"http://127.0.0.1:{port}/push/nuoz?token={token}", process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_serve_delivers_a_readings_push_to_the_channels_it_names(served, ecap) -> None:
    url, process = served
    answer = requests.post(url, data=BODY.read_bytes(), timeout=10)
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 30
    while len(ecap.readings()) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert_all_arrived(ecap)


def test_replay_after_fixing_energycap_keeps_the_identities(
    tmp_path: Path, ecap: FakeEnergyCap
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    times = pd.date_range("2026-10-25T00:30Z", periods=4, freq="30min")  # London falls back
    readings = make_readings(source_id="C77", time=times, value=[1.0, 2.0, 3.0, 4.0])
    hint = {"source_id": "C77", "quantity": "kWh", "channel_import_id": "C77"}
    journal.accept(readings, source="readings-json", hints=[hint])
    client = EnergyCapClient(ecap.url, KEY, retry=RetryPolicy(2, 0.01, 0.02))
    settings = EnergyCapSettings(batch_size=40, backoff_base_s=0.01, backoff_cap_s=0.05)
    first = deliver_pending(journal, client, settings, MappingTable())
    assert first.rejected == 4  # no channel C77 yet: dead letters
    ecap.add_meter(7, "M7", [FakeChannel(77, "C77", "Use", "kWh", 900)], "Europe/London")
    assert journal.replay() == 4
    second = deliver_pending(journal, client, settings, MappingTable())
    journal.close()
    assert second.complete and second.confirmed == 4
    assert [v for _, v in arrived(ecap, 77)] == [1.0, 2.0, 3.0, 4.0]


def test_a_journal_of_the_first_schema_gets_the_hints_table(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    Journal(path).close()
    with sqlite3.connect(path) as conn:  # as a journal written before hints were kept
        conn.execute("DROP TABLE hints")
        conn.execute("PRAGMA user_version = 1")
    journal = Journal(path)
    times = pd.date_range("2026-03-29T00:30Z", periods=2, freq="30min")
    readings = make_readings(source_id="42", time=times, value=[1.0, 2.0])
    journal.accept(readings, source="push:nuoz", hints=[{"source_id": "42", "channel_id": 42}])
    assert [r.channel_id for r in journal.hints_for(["push:nuoz", "other"])["push:nuoz"]] == [42]
    assert journal.integrity_check() == "ok"
    journal.close()
