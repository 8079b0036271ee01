"""A device's time zone, wherever it is set, is one this PC knows; a bad one is never stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.core.listener.capture import CaptureStore
from app.core.listener.held import HeldPushes
from app.core.paths import resolve_paths
from app.core.sources.devices import DeviceError, DeviceRegistry

MAPPING = {"points": "data.records", "id": "sensor.serial", "time": "ts", "value": "kwh"}
BAD_ZONES = ["Mars/Olympus_Mons", "Europe", "../etc/passwd", ""]


def _stored(devices_file: Path) -> dict[str, dict[str, object]]:
    """The devices as written on disk, by name."""
    if not devices_file.exists():
        return {}
    document = json.loads(devices_file.read_text(encoding="utf-8"))
    return {d["name"]: d for d in document["devices"]}


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_save_mapping_refuses_a_zone_nobody_knows_and_stores_nothing(
    tmp_path: Path, zone: str
) -> None:
    devices = DeviceRegistry(tmp_path / "devices.json")
    devices.add("gw", "episensor", "Europe/London")
    captures = CaptureStore(tmp_path / "captures.sqlite3")
    try:
        held = HeldPushes(devices, captures)
        with pytest.raises(DeviceError) as refused:
            held.save_mapping("gw", {**MAPPING, "tz": zone})
    finally:
        captures.close()
    assert f"time zone {zone!r} is not a time zone this PC knows" in str(refused.value)
    assert "Europe/London" in str(refused.value)  # what to use instead
    assert "mapping" not in _stored(tmp_path / "devices.json")["gw"]["options"]
    assert "mapping" not in DeviceRegistry(tmp_path / "devices.json").get("gw").options


def test_a_known_zone_in_a_mapping_is_stored(tmp_path: Path) -> None:
    devices = DeviceRegistry(tmp_path / "devices.json")
    devices.add("gw", "episensor", "UTC")
    devices.update("gw", options={"mapping": {**MAPPING, "tz": "America/New_York"}})
    stored = _stored(tmp_path / "devices.json")["gw"]["options"]
    assert stored["mapping"]["tz"] == "America/New_York"  # type: ignore[index]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Europe"])
def test_cli_device_add_set_and_map_refuse_a_bad_zone_plainly(
    tmp_path: Path, zone: str, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = resolve_paths(tmp_path / "home").ensure()
    home = ["--home", str(paths.data_dir)]
    assert main(["device", "add", "new", "--connector", "readings", "--tz", zone, *home]) != 0
    said = capsys.readouterr()
    assert repr(zone) in said.err and "Traceback" not in said.err + said.out
    devices_file = paths.config_dir / "devices.json"
    assert "new" not in _stored(devices_file)
    DeviceRegistry(devices_file).add("gw", "episensor", "UTC")  # no token in any keyring
    assert main(["device", "set", "gw", "--tz", zone, *home]) != 0
    assert repr(zone) in capsys.readouterr().err
    paths_args = [f"--{k}" if i % 2 == 0 else k for kv in MAPPING.items() for i, k in enumerate(kv)]
    assert main(["device", "map", "gw", *paths_args, "--tz", zone, *home]) != 0
    assert repr(zone) in capsys.readouterr().err
    stored = _stored(devices_file)["gw"]
    assert stored["tz"] == "UTC" and "mapping" not in stored["options"]  # type: ignore[operator]
