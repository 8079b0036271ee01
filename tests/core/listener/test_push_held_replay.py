"""Pushes in a shape the reader does not know: held, mapped by example, replayed, nothing lost.

For each push reader a gateway posts bodies of a shape nobody told meterbridge
about (nested JSON with other key names, a CSV with other headers) to a real
listener: they are answered 202 "held for mapping" and kept with their headers.
`meterbridge device map` stores the paths, `device captures NAME --replay`
reads every held body into the journal with exact times and values; a
replay twice adds nothing; a body still not fully read stays held. A process
that dies after keeping a body and before answering loses nothing.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import requests

from app.cli import main
from app.core.journal.store import Journal
from app.core.listener.body import Payload
from app.core.listener.capture import CaptureStore
from app.core.listener.push_intake import PushIntake
from app.core.listener.server import PushListener, open_listener
from app.core.paths import AppPaths, resolve_paths
from app.core.settings.listener import ListenerSettings
from app.core.sources.devices import DeviceRegistry

T0 = pd.Timestamp("2026-05-13T06:00:00Z")


def nested(serial: str, values: list[object], start: int = 0) -> bytes:
    """A JSON shape no reader knows: id at the top, points under data.records."""
    records = [
        {"ts": (T0 + pd.Timedelta(minutes=15 * (start + i))).isoformat(), "kwh": v}
        for i, v in enumerate(values)
    ]
    return json.dumps({"sensor": {"serial": serial}, "data": {"records": records}}).encode()


def other_csv(serial: str, values: list[object], start: int = 0) -> bytes:
    """A CSV with other headers (day-first local times in Europe/London)."""
    lines = ["Zeit;Zaehler;Verbrauch"]
    for i, v in enumerate(values):
        when = (T0 + pd.Timedelta(minutes=15 * (start + i))).tz_convert("Europe/London")
        lines.append(f"{when:%d.%m.%Y %H:%M};{serial};{v}")
    return "\n".join(lines).replace(";", ",").encode()


@dataclass
class Shape:
    body: object  # (serial, values, start) → bytes
    content_type: str
    mapping: list[str]  # `device map` arguments


JSON_SHAPE = Shape(
    nested,
    "application/json",
    ["--points", "data.records", "--id", "sensor.serial", "--time", "ts", "--value", "kwh"],
)
CSV_SHAPE = Shape(
    other_csv,
    "text/csv",
    [
        *("--points", "", "--id", "Zaehler", "--time", "Zeit", "--value", "Verbrauch"),
        *("--time-format", "%d.%m.%Y %H:%M", "--tz", "Europe/London"),
    ],
)
READERS = [
    ("episensor", JSON_SHAPE),
    ("aculink810", JSON_SHAPE),
    ("acurev2100", CSV_SHAPE),
    ("readings", JSON_SHAPE),
]


@dataclass
class Home:
    paths: AppPaths
    listener: PushListener
    journal: Journal

    def post(self, device: str, token: str, body: bytes, content_type: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        return requests.post(self.listener.url_for(device), data=body, headers=headers, timeout=30)

    def cli(self, *args: str) -> int:
        return main([*args, "--home", str(self.paths.data_dir)])

    def readings(self) -> list[tuple[str, pd.Timestamp, float]]:
        frame = self.journal.pending(1000).sort_values(["source_id", "time"])
        return list(zip(frame["source_id"], frame["time"], frame["value"], strict=True))


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    paths = resolve_paths(tmp_path / "home").ensure()
    journal = Journal(paths.journal_file)
    listener = open_listener(paths, ListenerSettings(port=0), journal)
    listener.start()
    yield Home(paths, listener, journal)
    listener.stop()
    journal.close()


@pytest.mark.parametrize(("connector", "shape"), READERS, ids=[r[0] for r in READERS])
def test_unknown_shape_is_held_mapped_by_cli_and_replayed_once(
    home: Home, connector: str, shape: Shape, capsys: pytest.CaptureFixture[str]
) -> None:
    options = {"on_unreadable": "hold"} if connector == "readings" else {}
    token = home.listener.devices.add("gw", connector, "UTC", **options)
    make = shape.body
    bodies = [make("S1", [1.5, 2.25]), make("S2", [7.0]), make("S1", [3.0, "oops"], start=2)]
    for body in bodies:  # type: ignore[operator]
        answer = home.post("gw", token, body, shape.content_type)
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "held for mapping"
    assert home.readings() == []
    assert home.cli("device", "captures", "gw") == 0
    listing = capsys.readouterr().out
    assert listing.count("\theld\t") == 3 and "3 held: map them" in listing
    assert home.cli("device", "map", "gw", *shape.mapping) == 0
    assert "held" in capsys.readouterr().out
    assert home.cli("device", "captures", "gw", "--replay") == 1  # one body still has a bad value
    out = capsys.readouterr().out
    assert "2 held bodies read and dropped, 4 readings journaled (new 4)" in out, out
    assert "still held" in out and "value 'oops'" in out
    expected = [
        ("S1", T0, 1.5),
        ("S1", T0 + pd.Timedelta(minutes=15), 2.25),
        ("S1", T0 + pd.Timedelta(minutes=30), 3.0),
        ("S2", T0, 7.0),
    ]
    assert home.readings() == expected
    assert home.cli("device", "captures", "gw", "--replay") == 1  # twice: nothing added
    assert "0 held bodies read and dropped, 1 readings journaled (unchanged_pending 1)" in (
        capsys.readouterr().out
    )
    assert home.readings() == expected
    [still] = CaptureStore(home.paths.data_dir / "captures.sqlite3").list("gw", status="held")
    assert "oops" in still.reason
    assert home.cli("device", "captures", "gw", "--discard", str(still.id)) == 0
    assert CaptureStore(home.paths.data_dir / "captures.sqlite3").held_counts() == {}


def _keep_and_die(data_dir: str) -> None:
    """The child: keep an unreadable body, then die before any answer is written."""
    devices = DeviceRegistry(Path(data_dir) / "devices.json")
    captures = CaptureStore(Path(data_dir) / "captures.sqlite3")
    payload = Payload(b'{"odd": [1, 2]}', "push-body", "application/json")
    payload.headers = {"Content-Type": "application/json", "X-Gateway": "EG-1"}
    intake = PushIntake(devices, captures).take(devices.get("gw"), payload)
    os._exit(9 if intake.status == 202 else 1)


def test_a_crash_between_keeping_a_body_and_answering_loses_nothing(tmp_path: Path) -> None:
    DeviceRegistry(tmp_path / "devices.json").add("gw", "episensor")
    child = multiprocessing.get_context("spawn").Process(
        target=_keep_and_die, args=(str(tmp_path),)
    )
    child.start()
    child.join(60)
    assert child.exitcode == 9  # died right after the intake decided "held"
    [held] = CaptureStore(tmp_path / "captures.sqlite3").list("gw", status="held")
    assert held.headers == {"Content-Type": "application/json", "X-Gateway": "EG-1"}
    capture = CaptureStore(tmp_path / "captures.sqlite3").get(held.id)
    assert capture is not None and capture.body == b'{"odd": [1, 2]}'
