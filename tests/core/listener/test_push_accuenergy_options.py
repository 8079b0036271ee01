"""Accuenergy key names and CSV layout as device options: checked, shown, used by the listener."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from app.core.journal.store import Journal
from app.core.listener.capture import CaptureStore
from app.core.listener.server import PushListener
from app.core.settings.listener import ListenerSettings
from app.core.sources.devices import DeviceError, DeviceRegistry
from app.core.sources.register_store import RegisterStore

T0 = 1778653500
RENAMED = {
    "timestamp_path": "ts",
    "gateway_serial_path": "gw.sn",
    "device_path": "meter",
    "readings_path": "values",
    "param_path": "key",
    "value_path": "val",
}


def snapshot(ts: int, energy: float) -> bytes:
    readings = [{"key": "EP_IMP_kWh", "val": str(energy)}, {"key": "DMD_kW", "val": "3.5"}]
    document = {"ts": ts, "gw": {"sn": "G1"}, "meter": {"serial": "7", "values": readings}}
    return json.dumps(document).encode()


def test_unknown_and_mistyped_options_are_refused_naming_the_valid_ones(tmp_path: Path) -> None:
    devices = DeviceRegistry(tmp_path / "devices.json")
    with pytest.raises(DeviceError) as refused:
        devices.add("link", "aculink810", parm_path="key")
    message = str(refused.value)
    assert "unknown option 'parm_path' for aculink810 devices (did you mean param_path?)" in message
    assert "valid options: columns, delimiter, device_name_path" in message
    with pytest.raises(DeviceError, match="unknown option 'key_table' for aculink810"):
        devices.add("link", "aculink810", key_table={})
    with pytest.raises(DeviceError, match=r"option readings_path=\[\]: expected a key"):
        devices.add("link", "aculink810", readings_path=[])
    with pytest.raises(DeviceError, match="key table entry 'X' must be \\[channel, quantity\\]"):
        devices.add("rev", "acurev2100", key_table={"X": "001"})
    with pytest.raises(DeviceError, match=r"option delimiter=':': use one of , ; tab |"):
        devices.add("rev", "acurev2100", delimiter=":")
    assert devices.all() == []


def test_update_sets_and_unsets_options_and_keeps_the_token(tmp_path: Path) -> None:
    devices = DeviceRegistry(tmp_path / "devices.json")
    token = devices.add("link", "aculink810", "Europe/London", param_path="key")
    devices.update("link", options={"value_path": ["val", "value"]}, unset=("param_path",))
    again = DeviceRegistry(tmp_path / "devices.json").get("link")
    assert again.options == {"value_path": ["val", "value"]} and again.tz == "Europe/London"
    assert DeviceRegistry(tmp_path / "devices.json").owner_of(token) == "link"
    with pytest.raises(DeviceError, match="option 'param_path' is not set on link"):
        devices.update("link", unset=("param_path",))
    with pytest.raises(DeviceError, match="unknown option 'vaule_path'"):
        devices.update("link", options={"vaule_path": "v"})
    devices.update("link", tz="America/New_York", expected_interval_s=900)
    assert devices.get("link").expected_interval_s == 900


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[PushListener, DeviceRegistry, dict[str, str]]]:
    devices = DeviceRegistry(tmp_path / "devices.json")
    tokens = {
        "link": devices.add("link", "aculink810"),
        "rev": devices.add("rev", "acurev2100", "Europe/London", delimiter=";", time_column="Date"),
    }
    listener = PushListener(
        ListenerSettings(port=0),
        devices,
        Journal(tmp_path / "journal.sqlite3"),
        RegisterStore(tmp_path / "r.sqlite3"),
        CaptureStore(tmp_path / "captures.sqlite3"),
    )
    listener.start()
    yield listener, devices, tokens
    listener.stop()


def post(listener: PushListener, device: str, token: str, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(listener.url_for(device), headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_renamed_snapshot_is_held_then_read_once_the_device_names_the_keys(
    served: tuple[PushListener, DeviceRegistry, dict[str, str]],
) -> None:
    listener, devices, tokens = served
    held = post(listener, "link", tokens["link"], data=snapshot(T0, 100.0))
    assert held.status_code == 202, held.text  # Accuenergy's format is inferred: held
    assert "expected 'device'" in held.json()["problem"] and held.json()["held"]
    devices.update("link", options=RENAMED)
    first = post(listener, "link", tokens["link"], data=snapshot(T0, 100.0))
    second = post(listener, "link", tokens["link"], data=snapshot(T0 + 900, 101.25))
    assert first.status_code == second.status_code == 200, second.text
    journal = listener.committer.sink
    assert isinstance(journal, Journal)
    frame = journal.pending(100).sort_values(["quantity", "time"])
    rows = list(zip(frame["source_id"], frame["quantity"], frame["value"], strict=True))
    assert rows == [
        ("G1/7/DMD_kW", "kW", 3.5),
        ("G1/7/DMD_kW", "kW", 3.5),
        ("G1/7/EP_IMP_kWh", "kWh", 1.25),
    ]
    assert frame["interval_s"].tolist()[-1] == 900


def test_semicolon_csv_with_time_column_over_the_london_repeated_hour_as_multipart(
    served: tuple[PushListener, DeviceRegistry, dict[str, str]],
) -> None:
    listener, _, tokens = served
    times = ["00:30", "01:00", "01:30", "01:00", "01:30", "02:00"]
    lines = ["EP_IMP_001_kWh;Date"] + [
        f"{10 + 0.5 * i};2026-10-25 {t}:00" for i, t in enumerate(times)
    ]
    name = "Logger1-AHI260110088-AcuRev2100-1792884600-30min.csv"  # 2026-10-24T23:30Z
    answer = post(
        listener,
        "rev",
        tokens["rev"],
        files={"file": (name, "\r\n".join(lines).encode(), "text/csv")},
        data={"datasource": "AHI260110088/AcuRev2100"},
    )
    assert answer.status_code == 200, answer.text
    journal = listener.committer.sink
    assert isinstance(journal, Journal)
    frame = journal.pending(100).sort_values("time")
    assert list(frame["source_id"].unique()) == ["AHI260110088/AcuRev2100/001"]
    assert list(frame["value"]) == [0.5] * 5
    assert list(frame["interval_s"]) == [1800] * 5
    assert frame["time"].iloc[-1] == pd.Timestamp("2026-10-25T02:00Z")  # 02:00 GMT


def test_device_set_and_show_from_the_command_line(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    assert (
        main(["device", "add", "link", "--connector", "aculink810", "--set", "param_path=key"]) == 0
    )
    capsys.readouterr()
    assert main(["device", "set", "link", "--option", 'value_path=["val","value"]']) == 0
    assert "value_path=val | value" in capsys.readouterr().out
    assert main(["device", "set", "link", "--set", "readings_pth=rows"]) == 2
    error = capsys.readouterr().err
    assert "unknown option 'readings_pth'" in error and "did you mean readings_path?" in error
    assert main(["device", "set", "link"]) == 2
    assert "nothing to change" in capsys.readouterr().err
    assert main(["device", "show", "link"]) == 0
    shown = capsys.readouterr().out
    assert "param_path          = key\n" in shown
    assert "readings_path       = readings | reading  (default)" in shown
    assert "time_encoding       = auto  (default)" in shown
    assert main(["device", "set", "link", "--unset", "param_path", "--tz", "Europe/London"]) == 0
    capsys.readouterr()
    assert main(["device", "list"]) == 0
    listed = capsys.readouterr().out
    assert "tz Europe/London" in listed and "options: value_path=val | value" in listed
