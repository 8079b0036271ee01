"""`meterbridge serve` as a real process: push, SIGKILL before delivery, restart, all arrive."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.fakes.memory_keyring import installed, no_keyring
from tests.ports import free_port

KEY = "serve-test-key"
T0 = pd.Timestamp("2026-10-24T23:00Z")  # the London clock-change night, in UTC
SENSOR = "000D6F0001A303D4_333"
SETTINGS = {
    "version": 1,
    "energycap": {"max_attempts": 2, "backoff_base_s": 0.05, "backoff_cap_s": 0.2, "timeout_s": 5},
    "journal": {"outage_patience_s": 0.0},
}


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, METERBRIDGE_HOME=str(home), ECAP_API_KEY=KEY)
    command = [sys.executable, "-m", "app", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


STARTED: list[Server] = []


@pytest.fixture(autouse=True)
def no_orphans() -> Iterator[None]:
    """Kill any `serve` child a failing test left running."""
    yield
    while STARTED:
        server = STARTED.pop()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(10)
        if server.process.stdout is not None:
            server.process.stdout.close()
        server.log.close()


class Server:
    """A `meterbridge serve` child process."""

    def __init__(
        self, home: Path, port: int, *extra: str, preexec_fn: Callable[[], None] | None = None
    ) -> None:
        env = dict(os.environ, METERBRIDGE_HOME=str(home), ECAP_API_KEY=KEY)
        command = [sys.executable, "-m", "app", "serve", "--listen", f"127.0.0.1:{port}", *extra]
        command += ["--mapping", str(home / "mapping.csv")]
        self.log = (home / f"serve-{time.monotonic_ns()}.log").open("w")
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
            preexec_fn=preexec_fn,  # a resource limit, set before exec
        )
        STARTED.append(self)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        assert "listening on http://127.0.0.1" in first, first

    def finish(self, sig: int) -> tuple[int, str]:
        self.process.send_signal(sig)
        out, _ = self.process.communicate(timeout=30)
        self.log.close()
        return self.process.returncode, out


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        server.add_meter(1, "GW", [FakeChannel(11, "C11", "Use", "kWh", 900)], "Europe/London")
        server.add_meter(2, "RM", [FakeChannel(22, "C22", "Use", "kWh", 900)], "Europe/London")
        server.add_meter(3, "M9", [FakeChannel(33, "C33", "Demand", "kW", 900)], "Europe/London")
        yield server


def batches() -> list[list[dict[str, object]]]:
    """Register points every 15 min over the clock change, in two batches plus a resend."""
    points = [
        {"exportId": SENSOR, "timestamp": (T0 + pd.Timedelta(minutes=15 * i)).isoformat(),
         "value": round(5000 + 1.25 * i + (0.5 if i % 4 == 0 else 0), 2)}
        for i in range(12)
    ]  # fmt: skip
    return [points[:6], points[6:], points[:6]]


READINGS_API = [
    {"channelImportId": "C22", "observationTypeCode": "Use", "unitCode": "kWh",
     "readings": [{"time": "2026-10-25T01:15:00+01:00", "value": 1.5},
                  {"time": "2026-10-25T01:15:00+00:00", "value": 2.25, "estimated": True}]},
    {"meterImportId": "M9", "observationTypeCode": "Demand", "unitCode": "kW",
     "readings": [{"time": "2026-10-25T00:30:00Z", "value": 7.0}]},
]  # fmt: skip


def rows_of(frame: pd.DataFrame) -> list[tuple[str, float]]:
    return [
        (pd.Timestamp(t).tz_convert("UTC").isoformat(), round(float(v), 6))
        for t, v in zip(frame["time"], frame["value"], strict=True)
    ]


def expected() -> list[tuple[str, float]]:
    points = [p for batch in batches()[:2] for p in batch]
    return [
        (pd.Timestamp(str(b["timestamp"])).tz_convert("UTC").isoformat(),
         round(float(str(b["value"])) - float(str(a["value"])), 6))
        for a, b in itertools.pairwise(points)
    ]  # fmt: skip


@pytest.mark.slow
def test_sigkill_between_ack_and_delivery_then_restart_delivers_all(
    tmp_path: Path, fake: FakeEnergyCap
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps(SETTINGS))  # no URL: given with --ecap-url
    (home / "mapping.csv").write_text(f"source_id,channel_import_id\n{SENSOR},C11\n")
    added = cli(home, "device", "add", "gw1", "--connector", "episensor", "--tz", "Europe/London")
    assert added.returncode == 0, added.stderr
    token = next(line.split()[-1] for line in added.stdout.splitlines() if line.startswith("token"))
    assert "/push/gw1" in added.stdout
    nuoz = cli(home, "device", "add", "nuoz", "--connector", "readings")
    nuoz_token = next(x.split()[-1] for x in nuoz.stdout.splitlines() if x.startswith("token"))
    port = free_port()
    fake.inject("/api/v3/reading", status=503, times=None)  # EnergyCAP is down
    server = Server(home, port, "--ecap-url", fake.url)
    url = f"http://127.0.0.1:{port}/push/gw1"
    assert requests.post(url, json=batches()[0], timeout=10).status_code == 401
    for batch in batches():
        answer = requests.post(url, json=batch, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
    nuoz_url = f"http://127.0.0.1:{port}/push/nuoz?token={nuoz_token}"
    assert requests.post(nuoz_url, json=READINGS_API, timeout=10).status_code == 200
    code, _ = server.finish(signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert fake.readings().empty
    fake.clear_faults()
    (home / "settings.json").write_text(json.dumps({**SETTINGS, "energycap": {
        **SETTINGS["energycap"], "url": fake.url}}))  # fmt: skip
    server = Server(home, port)
    deadline = time.monotonic() + 40
    while len(fake.readings()) < len(expected()) + 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    resend = requests.post(url, json=batches()[1], headers={"Authorization": f"Bearer {token}"})
    assert resend.json()["journal"]["already_delivered"] == 6  # nothing is sent twice
    code, out = server.finish(signal.SIGTERM)
    assert code == 0 and "stopped" in out
    assert rows_of(fake.readings_for(11)) == expected()
    assert rows_of(fake.readings_for(22)) == [
        ("2026-10-25T00:15:00+00:00", 1.5),
        ("2026-10-25T01:15:00+00:00", 2.25),
    ]
    assert list(fake.readings_for(22)["estimated"]) == [False, True]
    assert rows_of(fake.readings_for(33)) == [("2026-10-25T00:30:00+00:00", 7.0)]
    listed = cli(home, "device", "list")
    assert "gw1: episensor" in listed.stdout and "6 readings in 1 pushes" in listed.stdout


def test_device_commands(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The machine's keyring must not decide the outcome (nor receive test tokens): this
    # part runs as on a machine without one; the test below runs with one.
    with no_keyring():
        _device_commands_without_keyring(home, capsys)


def test_device_token_is_kept_in_the_keyring_when_there_is_one(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    with installed() as ring:
        assert main(["device", "add", "gw", "--connector", "episensor"]) == 0
        token = next(
            x.split()[-1] for x in capsys.readouterr().out.splitlines() if x.startswith("token")
        )
        assert ring.store[("meterbridge", "device-token:gw")] == token
        assert token not in (home / "devices.json").read_text()
        assert main(["device", "token", "gw"]) == 0
        assert capsys.readouterr().out.strip() == token
        assert main(["device", "token", "gw", "--new"]) == 0
        renewed = capsys.readouterr().out.strip()
        assert renewed != token and ring.store[("meterbridge", "device-token:gw")] == renewed


def _device_commands_without_keyring(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main
    from app.core.listener.capture import CaptureStore

    assert main(["device", "add", "bad name", "--connector", "episensor"]) == 2
    assert "device name 'bad name'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: invalid choice
        main(["device", "add", "gw", "--connector", "nope"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    assert main(["device", "add", "gw", "--connector", "episensor", "--set", "reset_rule=x"]) == 2
    assert "reset_rule='x': use one of from_zero, skip" in capsys.readouterr().err
    options = ["--set", 'register_ids=["333","340"]', "--set", "points_path=data.items"]
    assert (
        main(["device", "add", "gw", "--connector", "episensor", "--tz", "Europe/London", *options])
        == 0
    )
    token = next(
        x.split()[-1] for x in capsys.readouterr().out.splitlines() if x.startswith("token")
    )
    devices = json.loads((home / "devices.json").read_text())["devices"]
    assert devices[0]["options"] == {"register_ids": ["333", "340"], "points_path": "data.items"}
    assert token not in (home / "devices.json").read_text()  # only its hash is kept
    assert main(["device", "token", "gw"]) == 2  # no keyring here: the token is not kept
    assert "--new" in capsys.readouterr().err
    assert main(["device", "token", "gw", "--new"]) == 0
    assert capsys.readouterr().out.strip() != token
    store = CaptureStore(home / "captures.sqlite3")
    capture = store.keep("gw", b"odd body", name="x.json", content_type="text/plain", reason="why")
    store.close()
    assert main(["device", "captures", "gw"]) == 0
    assert "x.json" in capsys.readouterr().out
    assert main(["device", "captures", "--show", str(capture)]) == 0
    assert "odd body" in capsys.readouterr().out
    assert main(["device", "remove", "gw"]) == 0
    assert main(["device", "list"]) == 0
    assert "no devices" in capsys.readouterr().out


def test_serve_sends_registers_raw_for_mapping_rows_that_ask(tmp_path: Path) -> None:
    """A mapping row with register=raw keeps that sensor's register values as they are."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps(SETTINGS))
    (home / "mapping.csv").write_text(f"source_id,channel_import_id,register\n{SENSOR},C11,raw\n")
    added = cli(home, "device", "add", "gw1", "--connector", "episensor")
    token = next(line.split()[-1] for line in added.stdout.splitlines() if line.startswith("token"))
    port = free_port()
    server = Server(home, port, "--no-deliver")
    url = f"http://127.0.0.1:{port}/push/gw1"
    answer = requests.post(url, json=batches()[0], headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    code, _ = server.finish(signal.SIGTERM)
    assert code == 0
    from app.core.journal.store import Journal

    journal = Journal(home / "journal.sqlite3")
    pending = journal.pending(100)
    journal.close()
    assert set(pending["quantity"]) == {"kWh-register"}
    assert rows_of(pending) == [
        (pd.Timestamp(str(p["timestamp"])).tz_convert("UTC").isoformat(), float(str(p["value"])))
        for p in batches()[0]
    ]
