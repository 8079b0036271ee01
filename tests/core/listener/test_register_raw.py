"""Raw register values chosen per source by the mapping (``register`` column), end to end."""

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
from app.core.mapping import MappingError, apply_mapping, load_mapping, parse_mapping_csv
from app.core.settings.listener import ListenerSettings
from app.core.sources.devices import DeviceRegistry
from app.core.sources.register_modes import RegisterModes
from app.core.sources.register_store import RegisterStore
from connectors.base import make_readings

T0 = 1780000000  # a whole quarter hour, UTC
RAW, DIFF = "000D6F00000000AA_333", "000D6F00000000BB_333"
HEADER = "source_id,quantity,meter_import_id,observation_type,register\n"


def test_register_column_parses_checks_and_round_trips() -> None:
    table = parse_mapping_csv(
        HEADER + f"{RAW},,M-A,Reading,raw\n{DIFF},,M-B,,\nX,kW,M-X,,Difference\n"
    )
    assert [r.register for r in table.rows] == ["raw", "difference", "difference"]
    assert table.raw_sources() == frozenset({RAW})
    assert parse_mapping_csv(table.to_csv()).rows == table.rows
    with pytest.raises(MappingError, match=r"m.csv:3: column register: 'rwa' is not one of"):
        parse_mapping_csv(HEADER + "A,,M,,raw\nB,,M,,rwa\n", "m.csv")
    old_file = parse_mapping_csv("source_id,meter_import_id\nA,M\n")  # no register column
    assert old_file.rows[0].register == "difference" and not old_file.raw_sources()


def test_raw_row_for_kwh_maps_the_register_values_with_the_kwh_unit_code() -> None:
    table = parse_mapping_csv(HEADER + f"{RAW},kWh,M-A,,raw\n")
    when = [pd.Timestamp(T0, unit="s", tz="UTC")]
    frame = make_readings(source_id=RAW, quantity="kWh-register", time=when, value=[5.0])
    mapped = apply_mapping(frame, table)
    assert mapped.loc[0, "meter_import_id"] == "M-A" and bool(mapped.loc[0, "mapped"])
    assert (mapped.loc[0, "observation_type"], mapped.loc[0, "unit_code"]) == (
        "kWh-register",
        "kWh",
    )


def test_register_modes_looks_at_most_once_a_second_and_keeps_the_last_good_set(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mapping.csv"
    path.write_text(HEADER + f"{RAW},,M-A,,raw\n", encoding="utf-8")
    now = [100.0]
    modes = RegisterModes(lambda: path, clock=lambda: now[0])
    assert modes() == {RAW}
    path.write_text(HEADER + f"{RAW},,M-A,,raw\n{DIFF},,M-B,,raw\n", encoding="utf-8")
    now[0] += 0.5
    assert modes() == {RAW}  # not looked at again within the second
    now[0] += 0.6
    assert modes() == {RAW, DIFF}
    path.write_text(HEADER + f"{RAW},,M-A,,sometimes\n", encoding="utf-8")
    now[0] += 1.1
    assert modes() == {RAW, DIFF}  # a broken file keeps the last good set
    path.unlink()
    now[0] += 1.1
    assert modes() == frozenset()
    assert RegisterModes(lambda: "")() == frozenset()


def test_store_passes_raw_sources_through_and_differences_the_rest(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "r.sqlite3")
    times = [pd.Timestamp(T0 + i * 900, unit="s", tz="UTC") for i in range(3)]
    frame = pd.concat(
        [
            make_readings(source_id=sid, quantity="kWh-register", time=times, value=[10, 12, 15])
            for sid in (RAW, DIFF)
        ],
        ignore_index=True,
    )
    derived = store.derive(frame, source="push:gw", raw_sources=frozenset({RAW}))
    raw = derived.readings[derived.readings["source_id"] == RAW]
    diff = derived.readings[derived.readings["source_id"] == DIFF]
    assert list(raw["quantity"]) == ["kWh-register"] * 3 and list(raw["value"]) == [10, 12, 15]
    assert list(diff["quantity"]) == ["kWh", "kWh"] and list(diff["value"]) == [2, 3]
    only_raw = store.derive(
        frame[frame["source_id"] == RAW], source="push:gw", raw_sources=frozenset({RAW})
    )
    assert list(only_raw.readings["value"]) == [10, 12, 15] and only_raw.registers_in == 0
    store.close()


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[PushListener, dict[str, str], Journal, Path]]:
    devices = DeviceRegistry(tmp_path / "devices.json")
    tokens = {
        "gw": devices.add("gw", "episensor"),
        "gwraw": devices.add("gwraw", "episensor", registers="raw"),
    }
    journal = Journal(tmp_path / "journal.sqlite3")
    served = PushListener(
        ListenerSettings(port=0),
        devices,
        journal,
        RegisterStore(tmp_path / "r.sqlite3"),
        CaptureStore(tmp_path / "captures.sqlite3"),
    )
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(HEADER + f"{RAW},,M-A,,raw\n{DIFF},,M-B,,\n", encoding="utf-8")
    served.committer.raw_sources = RegisterModes(lambda: mapping, min_interval_s=0.0)
    served.start()
    yield served, tokens, journal, mapping
    served.stop()


def push(served: PushListener, token: str, device: str, steps: range, start: float) -> dict:
    points = [
        {"exportId": sid, "timestamp": T0 + i * 900, "value": start + i * 1.25}
        for i in steps
        for sid in (RAW, DIFF)
    ]
    answer = requests.post(
        served.url_for(device),
        data=json.dumps(points).encode(),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_mapping_raw_rows_through_the_listener_and_a_mapping_change_while_serving(
    listener: tuple[PushListener, dict[str, str], Journal, Path],
) -> None:
    served, tokens, journal, mapping = listener
    push(served, tokens["gw"], "gw", range(0, 3), 100.0)
    frame = journal.pending(100)
    raw = frame[frame["source_id"] == RAW].sort_values("time")
    diff = frame[frame["source_id"] == DIFF].sort_values("time")
    assert list(raw["quantity"]) == ["kWh-register"] * 3
    assert list(raw["value"]) == [100.0, 101.25, 102.5]  # the register values as they came
    assert list(diff["quantity"]) == ["kWh", "kWh"] and list(diff["value"]) == [1.25, 1.25]
    assert list(diff["interval_s"]) == [900, 900]
    table = load_mapping(mapping)
    sent = apply_mapping(raw, table)
    assert set(sent["meter_import_id"]) == {"M-A"} and set(sent["unit_code"]) == {"kWh"}
    # The user turns raw off for RAW while serving: later pushes difference it.
    mapping.write_text(HEADER + f"{RAW},,M-A,,\n{DIFF},,M-B,,\n", encoding="utf-8")
    push(served, tokens["gw"], "gw", range(3, 5), 100.0)
    later = journal.pending(100)
    later_raw = later[(later["source_id"] == RAW) & (later["quantity"] == "kWh")]
    assert list(later_raw["value"]) == [1.25]  # the first point after the switch starts it


def test_device_option_raw_still_sends_every_source_raw(
    listener: tuple[PushListener, dict[str, str], Journal, Path],
) -> None:
    served, tokens, journal, _ = listener
    push(served, tokens["gwraw"], "gwraw", range(0, 2), 7.0)
    frame = journal.pending(100)
    assert set(frame["quantity"]) == {"kWh-register"} and len(frame) == 4


def test_a_file_read_on_its_own_keeps_the_raw_sources_it_is_given() -> None:
    from connectors.base import Source
    from connectors.push.acurev2100 import CONNECTOR

    body = b"timestamp,EP_IMP_001_kWh,EP_IMP_002_kWh\n1780000000,10,20\n1780000900,11,22\n"
    options = {"device_name": "rev", "meter": "m", "raw_sources": ["rev/m/002"]}
    [batch] = CONNECTOR.read(Source.from_bytes(body, "log.csv"), options)
    frame = batch.readings.sort_values(["source_id", "time"])
    rows = list(zip(frame["source_id"], frame["quantity"], frame["value"], strict=True))
    assert rows == [
        ("rev/m/001", "kWh", 1.0),
        ("rev/m/002", "kWh-register", 20.0),
        ("rev/m/002", "kWh-register", 22.0),
    ]
