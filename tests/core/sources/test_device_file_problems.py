"""A hand-edited devices.json: each device it breaks is named and refused, the others served.

A zone this PC does not know (a typo, a folder, empty, a number), an entry that
is no device, a file that is not JSON: the registry names the file, the device
and the value (line and column for JSON), keeps every usable device, and never
rewrites a file it could not read without keeping a copy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from app.core.paths import resolve_paths
from app.core.sources.devices import DeviceRegistry

BAD_ZONES: list[object] = ["Europe/Londn", "Europe", "", 5]


def _write(path: Path, devices: list[object]) -> None:
    path.write_text(json.dumps({"version": 1, "devices": devices}, indent=2), encoding="utf-8")


def _device(name: str, tz: object, **extra: object) -> dict[str, object]:
    return {"name": name, "connector": "readings", "tz": tz, "token_sha256": name * 4, **extra}


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_a_bad_zone_is_named_with_file_device_and_value_and_the_rest_are_served(
    tmp_path: Path, zone: object
) -> None:
    path = tmp_path / "devices.json"
    _write(path, [_device("good", "Europe/London"), _device("bad", zone)])
    devices = DeviceRegistry(path)
    assert [d.name for d in devices.all()] == ["bad", "good"]  # its token still identifies it
    assert devices.get("good").problem == ""
    (problem,) = devices.problems
    assert str(path) in problem and "'bad'" in problem and repr(zone) in problem
    assert "not a time zone this PC knows" in problem and "--tz" in problem
    assert devices.get("bad").problem in problem


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"tz": "America/New_Yrok"}, "option tz 'America/New_Yrok'"),
        ({"mapping": {"points": "p", "tz": "US"}}, "the mapping's time zone 'US'"),
    ],
)
def test_a_bad_zone_in_the_options_is_named(
    tmp_path: Path, options: dict[str, object], named: str
) -> None:
    path = tmp_path / "devices.json"
    _write(path, [_device("gw", "UTC", options=options)])
    (problem,) = DeviceRegistry(path).problems
    assert named in problem and "'gw'" in problem


def test_a_fixed_zone_clears_the_problem_and_keeps_the_other_fields(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    _write(path, [_device("gw", "Europe/Londn", expected_interval_s=900)])
    devices = DeviceRegistry(path)
    devices.update("gw", tz="Europe/London")
    assert devices.problems == [] and devices.get("gw").problem == ""
    stored = json.loads(path.read_text())["devices"][0]
    assert stored["tz"] == "Europe/London" and stored["expected_interval_s"] == 900
    assert "problem" not in stored
    assert DeviceRegistry(path).problems == []


def test_another_change_writes_the_bad_value_back_as_the_user_wrote_it(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    _write(path, [_device("bad", 5), "a note the admin left", {"connector": "readings"}])
    devices = DeviceRegistry(path)
    assert len(devices.problems) == 3  # the zone, and two entries that are no named device
    assert any("entry 2" in p and "a note the admin left" in p for p in devices.problems)
    devices.add("new", "episensor", "America/Chicago")
    stored = json.loads(path.read_text())["devices"]
    assert stored[0]["tz"] == 5 and "problem" not in stored[0]
    assert "a note the admin left" in stored and {"connector": "readings"} in stored
    assert DeviceRegistry(path).get("new").problem == ""


def test_a_file_that_is_not_json_is_named_by_line_and_column_and_copied_before_a_rewrite(
    tmp_path: Path,
) -> None:
    path = tmp_path / "devices.json"
    broken = '{"version": 1,\n "devices": [\n  {"name": "gw" "connector": "readings"}\n ]\n}\n'
    path.write_text(broken, encoding="utf-8")
    devices = DeviceRegistry(path)
    assert devices.all() == []
    (problem,) = devices.problems
    assert str(path) in problem and "line 3, column 17" in problem
    assert "Expecting ',' delimiter (at '\"connector\": \"readings\"}')" in problem
    devices.add("new", "readings", "UTC")
    copies = list(tmp_path.glob("devices.json.broken-*"))
    assert len(copies) == 1 and copies[0].read_text(encoding="utf-8") == broken
    assert devices.kept_copy == copies[0]
    assert [d.name for d in DeviceRegistry(path).all()] == ["new"]


def test_a_file_broken_while_serving_keeps_the_devices_known(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    _write(path, [_device("gw", "Europe/London")])
    devices = DeviceRegistry(path)
    path.write_text('{"devices": [', encoding="utf-8")
    devices.reload()
    assert [d.name for d in devices.all()] == ["gw"]
    assert "line 1, column 14" in devices.problems[0]


@pytest.mark.parametrize("document", ["[]", '{"devices": {"gw": 1}}', "null"])
def test_a_json_document_of_the_wrong_shape_is_named(tmp_path: Path, document: str) -> None:
    path = tmp_path / "devices.json"
    path.write_text(document, encoding="utf-8")
    devices = DeviceRegistry(path)
    assert devices.all() == [] and str(path) in devices.problems[0]
    assert '{"devices": [...]}' in devices.problems[0]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
ENTRIES = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["gw", "gw2", "a b"]) | JSON_VALUES,
        "connector": st.sampled_from(["readings", "episensor"]) | JSON_VALUES,
        "tz": st.sampled_from(["UTC", "Europe/London", "America/New_York"]) | JSON_VALUES,
        "options": st.just({}) | JSON_VALUES,
        "token_sha256": st.text(max_size=4) | JSON_VALUES,
        "expected_interval_s": st.integers() | JSON_VALUES,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ENTRIES | JSON_VALUES, max_size=4))
def test_any_hand_edit_is_read_without_failing_and_nothing_is_dropped_on_a_rewrite(
    entries: list[object],
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "devices.json"
        _write(path, entries)
        devices = DeviceRegistry(path)
        usable = [d.name for d in devices.all() if not d.problem]
        for device in devices.all():
            assert devices.owner_of("not-a-token") is None
            if device.problem:
                assert any(f"device {device.name!r}: " in p for p in devices.problems)
            else:
                assert device.reader_options()["device_name"] == device.name
        assert len(devices.all()) + len(devices._unusable) == len(entries)
        devices.add("added-now", "readings", "UTC")
        again = DeviceRegistry(path)
        assert [d.name for d in again.all() if not d.problem] == sorted([*usable, "added-now"])
        stored = json.loads(path.read_text())["devices"]
        assert len(stored) == len(entries) + 1


def test_device_check_and_list_name_the_bad_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = resolve_paths(tmp_path / "home").ensure()
    home = ["--home", str(paths.data_dir)]
    path = paths.config_dir / "devices.json"
    _write(path, [_device("good", "America/New_York"), _device("bad", "Europe/Londn")])
    assert main(["device", "check", *home]) == 2
    said = capsys.readouterr()
    assert f"{path}: device 'bad'" in said.err and "'Europe/Londn'" in said.err
    assert "1 device(s) usable: good" in said.out
    assert main(["device", "list", *home]) == 0
    said = capsys.readouterr()
    assert "'Europe/Londn'" in said.err
    assert "PUSHES REFUSED" in said.out.split("bad:")[1].split("good:")[0]
    assert main(["device", "set", "bad", "--tz", "Europe/London", *home]) == 0
    capsys.readouterr()
    assert main(["device", "check", *home]) == 0
    assert "2 device(s) usable: bad, good" in capsys.readouterr().out
