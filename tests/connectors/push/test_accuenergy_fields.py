"""Accuenergy readers with per-device key names, CSV layout and time encodings."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from connectors.base import SourceError
from connectors.push import aculink810, acurev2100

T0 = 1778653500  # 2026-05-13T06:25:00Z

RENAMED = {  # a firmware that names every key differently
    "timestamp_path": "ts",
    "gateway_serial_path": "gw.sn",
    "device_path": "meter",
    "device_serial_path": "id",
    "device_name_path": "title",
    "readings_path": "values",
    "param_path": "key",
    "value_path": ["v", "val"],
    "unit_path": "u",
}


def renamed_snapshot(ts: object = T0) -> bytes:
    return json.dumps(
        {
            "ts": ts,
            "gw": {"sn": "G1"},
            "meter": {
                "id": "7",
                "title": "Main",
                "values": [
                    {"key": "EP_IMP_kWh", "val": "1.5", "u": "kWh"},
                    {"key": "Demand", "v": "2.25", "u": "kW"},
                    {"key": "Freq", "v": "50", "u": "Hz"},
                ],
            },
        }
    ).encode()


def test_snapshot_with_every_key_renamed_by_options() -> None:
    with pytest.raises(SourceError, match=r"expected 'device' .* keys found: ts, gw, meter"):
        aculink810.parse_push(renamed_snapshot(), "b", {"device_name": "site"})
    options = {"device_name": "site", "params": ["Demand"], **RENAMED}
    columns = aculink810.parse_push(renamed_snapshot(), "b", options)
    frame = columns.to_frame()
    assert list(zip(frame["source_id"], frame["quantity"], frame["value"], strict=True)) == [
        ("G1/7/EP_IMP_kWh", "kWh-register", 1.5),
        ("G1/7/Demand", "kW", 2.25),
    ]
    assert set(frame["time"]) == {pd.Timestamp(T0, unit="s", tz="UTC")}
    assert columns.info["skipped_params"] == ["Freq"]


def test_device_name_path_is_used_when_the_serial_path_finds_nothing() -> None:
    options = {**RENAMED, "device_serial_path": "serial_number", "device_name": "site"}
    frame = aculink810.parse_push(renamed_snapshot(), "b", options).to_frame()
    assert frame["source_id"][0] == "G1/Main/EP_IMP_kWh"


def test_missing_configured_keys_are_named() -> None:
    options = {**RENAMED, "param_path": "name"}
    with pytest.raises(SourceError, match=r"readings\[0\] has no 'name' \(keys found: key, val"):
        aculink810.parse_push(renamed_snapshot(), "b", options)
    options = {**RENAMED, "readings_path": ["rows", "data"]}
    with pytest.raises(SourceError, match="has no readings array \\('rows' or 'data'; keys"):
        aculink810.parse_push(renamed_snapshot(), "b", options)
    with pytest.raises(SourceError, match=r"option param_path=5: expected a key or dotted path"):
        aculink810.parse_push(renamed_snapshot(), "b", {**RENAMED, "param_path": 5})


@pytest.mark.parametrize(
    ("raw", "encoding", "expected"),
    [
        (str(T0 * 1000), "epoch_ms", T0),
        (T0 * 1000, "auto", T0),
        (T0, "epoch_s", T0),
        ("2026-05-13T07:25:00+01:00", "iso", T0),
        ("2026-05-13 07:25:00", "local", T0),  # BST in the device zone
        ("13/05/2026 07:25", "%d/%m/%Y %H:%M", T0),
    ],
)
def test_time_encodings(raw: object, encoding: str, expected: int) -> None:
    options = {**RENAMED, "time_encoding": encoding, "tz": "Europe/London"}
    frame = aculink810.parse_push(renamed_snapshot(raw), "b", options).to_frame()
    assert set(frame["time"]) == {pd.Timestamp(expected, unit="s", tz="UTC")}


def test_a_fixed_encoding_refuses_other_forms_naming_the_value() -> None:
    options = {**RENAMED, "time_encoding": "iso"}
    with pytest.raises(SourceError, match=r"no value could be read.*1778653500"):
        aculink810.parse_push(renamed_snapshot(T0), "b", options)


def test_datalog_json_renamed_arrays_in_new_york_spring_forward() -> None:
    document = {
        "time": ["2026-03-08 01:30:00", "2026-03-08 03:00:00", "2026-03-08 03:30:00"],
        "head": {"serial": "S8P9"},
        "dev": {
            "sn": "3",
            "data": [{"name": "EP_IMP_kWh", "unit": "kWh", "values": ["10", "11.5", "nan"]}],
        },
    }
    options = {
        "tz": "America/New_York",
        "device_path": "dev",
        "gateway_serial_path": "head.serial",
        "readings_path": "data",
        "param_path": "name",
        "value_path": "values",
    }
    frame = aculink810.parse_push(json.dumps(document).encode(), "f.json", options).to_frame()
    assert list(frame["source_id"]) == ["S8P9/3/EP_IMP_kWh"] * 2
    assert list(frame["time"]) == [
        pd.Timestamp("2026-03-08T06:30Z"),
        pd.Timestamp("2026-03-08T07:00Z"),
    ]


def test_web2_renamed_modules_for_acurev_key_table() -> None:
    document = {
        "stamp": T0,
        "slaves": [{"addr": "1", "regs": [{"id": "EP_IMP_002_kWh", "x": "42.5"}]}],
    }
    options = {
        "device_name": "rev2",
        "timestamp_path": "stamp",
        "modules_path": "slaves",
        "device_serial_path": "addr",
        "readings_path": "regs",
        "param_path": "id",
        "value_path": "x",
    }
    frame = acurev2100.parse_push(json.dumps(document).encode(), "b", options).to_frame()
    assert list(zip(frame["source_id"], frame["value"], strict=True)) == [("rev2/1/002", 42.5)]


LONDON_AUTUMN = [  # 2026-10-25: 01:00-01:59 comes twice (BST, then GMT)
    "2026-10-25 00:30",
    "2026-10-25 01:00",
    "2026-10-25 01:30",
    "2026-10-25 01:00",
    "2026-10-25 01:30",
    "2026-10-25 02:00",
]


def test_csv_semicolons_time_column_not_first_and_the_repeated_hour() -> None:
    lines = ["EP_IMP_001_kWh;Date;DMD_P_001_kW"]
    lines += [f"{100 + i};{t};----" for i, t in enumerate(LONDON_AUTUMN)]
    data = "\n".join(lines).encode()
    options = {
        "device_name": "rev1",
        "meter": "m1",
        "tz": "Europe/London",
        "delimiter": ";",
        "time_column": "date",
    }
    columns = acurev2100.parse_push(data, "log.csv", options)
    frame = columns.to_frame()
    assert list(frame["source_id"]) == ["rev1/m1/001"] * 6 and not columns.problems
    assert list(frame["value"]) == [100.0, 101, 102, 103, 104, 105]
    start = pd.Timestamp("2026-10-24T23:30Z")
    assert list(frame["time"]) == [start + pd.Timedelta(minutes=30 * i) for i in range(6)]
    assert frame["origin"][1] == "log.csv:3:EP_IMP_001_kWh"
    with pytest.raises(SourceError, match=r"no time column 'when'.*EP_IMP_001_kWh, Date"):
        acurev2100.parse_push(data, "log.csv", {**options, "time_column": "when"})


def test_headerless_tab_csv_with_the_time_column_named_in_columns() -> None:
    rows = [f"{100 + i}\t{T0 + 900 * i}" for i in range(3)]
    options = {
        "device_name": "rev1",
        "meter": "m1",
        "delimiter": "tab",
        "columns": ["EP_IMP_s001_kWh", "Epoch"],
        "time_column": "Epoch",
    }
    frame = acurev2100.parse_push("\n".join(rows).encode(), "x.csv", options).to_frame()
    assert list(frame["source_id"]) == ["rev1/m1/s001"] * 3
    assert frame["time"][2] == pd.Timestamp(T0 + 1800, unit="s", tz="UTC")
