"""`meterbridge serve` with a hand-edited devices.json: the broken device named and refused.

A device whose zone was mistyped is named at start (file, device, value), its
pushes are answered 503 saying its configuration is broken (nothing journaled,
the body captured), while devices in Europe/London and America/New_York keep
delivering across their clock changes; fixing the zone while serving lets the
device in, and a file broken mid-run keeps the devices already known.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest
import requests

from app.core.listener.capture import CaptureStore
from app.core.paths import resolve_paths
from tests.ports import free_port
from tests.test_serve import SETTINGS, Server, cli, no_orphans

__all__ = ["no_orphans"]  # fixture: no serve left running

ZONES = {"london": "Europe/London", "newyork": "America/New_York", "typo": "UTC"}
# Local wall-clock times on both clock-change days of each zone, and the instants they are.
LOCAL = {
    "london": {"2026-03-29T00:30:00": "2026-03-29T00:30:00Z",
               "2026-03-29T03:00:00": "2026-03-29T02:00:00Z",
               "2026-10-25T00:30:00": "2026-10-24T23:30:00Z",
               "2026-10-25T03:00:00": "2026-10-25T03:00:00Z"},
    "newyork": {"2026-03-08T01:30:00": "2026-03-08T06:30:00Z",
                "2026-03-08T03:00:00": "2026-03-08T07:00:00Z",
                "2026-11-01T00:30:00": "2026-11-01T04:30:00Z",
                "2026-11-01T03:00:00": "2026-11-01T08:00:00Z"},
}  # fmt: skip


def _body(times: list[str]) -> list[dict[str, object]]:
    readings = [{"time": t, "value": 1.0 + i} for i, t in enumerate(times)]
    return [{"channelImportId": "C1", "observationTypeCode": "Use", "unitCode": "kWh",
             "readings": readings}]  # fmt: skip


def _home(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A home with three Readings-API devices; typo's zone then mistyped by hand."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps(SETTINGS))
    (home / "mapping.csv").write_text("source_id,channel_import_id\n")
    tokens = {}
    for name, zone in ZONES.items():
        added = cli(home, "device", "add", name, "--connector", "readings", "--tz", zone)
        assert added.returncode == 0, added.stderr
        tokens[name] = next(x.split()[-1] for x in added.stdout.splitlines() if "token" in x[:6])
    devices_file = resolve_paths(home).config_dir / "devices.json"
    document = json.loads(devices_file.read_text())
    next(d for d in document["devices"] if d["name"] == "typo")["tz"] = "Europe/Londn"
    devices_file.write_text(json.dumps(document, indent=2))
    return home, tokens


def _journal(home: Path) -> dict[str, list[str]]:
    """The UTC times journaled, by device."""
    with sqlite3.connect(resolve_paths(home).journal_file) as db:
        rows = db.execute("SELECT source, time FROM readings ORDER BY time").fetchall()
    found: dict[str, list[str]] = {}
    for source, stamp in rows:
        instant = pd.Timestamp(stamp, unit="ns", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        found.setdefault(source.removeprefix("push:"), []).append(instant)
    return found


@pytest.mark.slow
def test_serve_names_the_mistyped_zone_refuses_that_device_and_serves_the_others(
    tmp_path: Path,
) -> None:
    home, tokens = _home(tmp_path)
    port = free_port()
    server = Server(home, port, "--no-deliver")
    assert server.process.stdout is not None
    announced = [server.process.stdout.readline() for _ in ZONES]
    assert "PUSHES REFUSED" in announced[2] and "typo (readings)" in announced[2]
    assert not any("REFUSED" in line for line in announced[:2])

    def push(name: str, times: list[str]) -> requests.Response:
        url = f"http://127.0.0.1:{port}/push/{name}?token={tokens[name]}"
        return requests.post(url, json=_body(times), timeout=10)

    refused = push("typo", ["2026-10-25T00:30:00"])
    assert refused.status_code == 503
    error = refused.json()["error"]
    assert "configuration of device 'typo'" in error and "is broken" in error
    assert "'Europe/Londn'" in error and "--tz" in error
    for name, times in LOCAL.items():
        answer = push(name, list(times))
        assert answer.status_code == 200, answer.text
        assert answer.json()["journal"]["new"] == 4
    fixed = cli(home, "device", "set", "typo", "--tz", "Europe/London")
    assert fixed.returncode == 0, fixed.stderr
    deadline = time.monotonic() + 10
    refused_pushes = 1  # each refused push is kept as a capture
    while (answer := push("typo", ["2026-10-25T00:30:00"])).status_code != 200:
        assert answer.status_code == 503, answer.text
        assert time.monotonic() < deadline, answer.text
        refused_pushes += 1
        time.sleep(0.3)
    devices_file = resolve_paths(home).config_dir / "devices.json"
    devices_file.write_text(devices_file.read_text()[:-20])  # cut short while serving
    time.sleep(1.1)  # the listener looks at the file at most once a second
    assert push("london", ["2026-10-25T01:00:00Z"]).status_code == 200
    code, _ = server.finish(signal.SIGTERM)
    assert code == 0
    logged = "".join(log.read_text() for log in home.glob("serve-*.log"))
    assert f"{devices_file}: device 'typo': time zone 'Europe/Londn'" in logged
    assert f"{devices_file} is not valid JSON at line" in logged
    assert "Traceback" not in logged
    journaled = _journal(home)
    assert journaled["london"] == sorted([*LOCAL["london"].values(), "2026-10-25T01:00:00Z"])
    assert journaled["newyork"] == sorted(LOCAL["newyork"].values())
    assert journaled["typo"] == ["2026-10-24T23:30:00Z"]  # only the push after the fix
    store = CaptureStore(resolve_paths(home).data_dir / "captures.sqlite3")
    try:
        kept = store.list("typo")
    finally:
        store.close()
    assert len(kept) == refused_pushes  # every refused push kept, the accepted one not
    assert all(k.status == "captured" and "'Europe/Londn'" in k.reason for k in kept)
