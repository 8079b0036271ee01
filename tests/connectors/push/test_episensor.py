"""EpiSensor reader: composed JSON pushes and DAT_*.csv exports."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from connectors.base import Source, SourceError, conform
from connectors.push.episensor import CONNECTOR, parse_push

NODE = "000D6F0001A303D4"


def body(document: object) -> bytes:
    return json.dumps(document).encode()


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def test_top_level_array_with_iso_offsets_and_sensor_kinds() -> None:
    points = [
        {"exportId": f"{NODE}_333", "timestamp": "2026-06-01T10:30:00+01:00", "value": 1234.56},
        {"exportId": f"{NODE}_26", "timestamp": "2026-06-01T09:30:00Z", "value": 1},
        {"exportId": f"{NODE}_500", "timestamp": "2026-06-01T09:30:00Z", "value": "21.5"},
    ]
    frame = parse_push(body(points), "push", {}).to_frame()
    assert list(frame["source_id"]) == [f"{NODE}_333", f"{NODE}_26", f"{NODE}_500"]
    assert list(frame["quantity"]) == ["kWh-register", "state", "value"]
    assert set(frame["time"]) == {utc("2026-06-01T09:30:00Z")}
    assert list(frame["value"]) == [1234.56, 1.0, 21.5]


def test_points_under_data_with_fallback_keys_and_epoch_seconds_and_ms() -> None:
    document = {
        "gateway": "gw1",
        "data": [
            {"id": "A_333", "ts": 1780000000, "v": 10},
            {"sensorId": "A_333", "time": 1780000900000, "val": 12.5},
        ],
    }
    frame = parse_push(body(document), "push", {}).to_frame()
    assert list(frame["time"]) == [
        pd.Timestamp(1780000000, unit="s", tz="UTC"),
        pd.Timestamp(1780000900, unit="s", tz="UTC"),
    ]
    assert list(frame["value"]) == [10.0, 12.5]


def test_naive_times_use_the_device_zone_london_and_new_york() -> None:
    points = [{"exportId": "X_1", "timestamp": "2026-07-01 12:00:00", "value": 1}]
    london = parse_push(body(points), "p", {"tz": "Europe/London"}).to_frame()
    new_york = parse_push(body(points), "p", {"tz": "America/New_York"}).to_frame()
    default = parse_push(body(points), "p", {}).to_frame()
    assert london["time"][0] == utc("2026-07-01T11:00:00Z")
    assert new_york["time"][0] == utc("2026-07-01T16:00:00Z")
    assert default["time"][0] == utc("2026-07-01T12:00:00Z")


def test_repeated_hour_in_order_resolves_and_lone_ambiguous_time_is_refused() -> None:
    walls = ["01:00", "01:30", "01:00", "01:30", "02:00"]
    points = [
        {"exportId": "X_1", "timestamp": f"2026-10-25 {w}:00", "value": i}
        for i, w in enumerate(walls)
    ]
    frame = parse_push(body(points), "p", {"tz": "Europe/London"}).to_frame()
    assert list(frame["time"]) == [
        utc("2026-10-25T00:00Z"),
        utc("2026-10-25T00:30Z"),
        utc("2026-10-25T01:00Z"),
        utc("2026-10-25T01:30Z"),
        utc("2026-10-25T02:00Z"),
    ]
    lone = [points[1], {"exportId": "X_1", "timestamp": "2026-10-25 03:00:00", "value": 9}]
    columns = parse_push(body(lone), "p", {"tz": "Europe/London"})
    assert len(columns) == 1
    assert "ambiguous" in columns.problems[0].message
    assert columns.problems[0].value == "2026-10-25 01:30:00"


def test_us_fall_back_and_spring_forward_gap() -> None:
    points = [
        {"exportId": "X_1", "timestamp": "2026-11-01 01:30:00", "value": 1},
        {"exportId": "X_1", "timestamp": "2026-11-01 01:30:00", "value": 1},
    ]
    with pytest.raises(SourceError, match="ambiguous in America/Chicago"):
        parse_push(body(points), "p", {"tz": "America/Chicago"})  # no step back: refused
    ordered = [
        {"exportId": "X_1", "timestamp": f"2026-11-01 {w}:00", "value": 1}
        for w in ("01:30", "01:45", "01:15", "01:30")
    ]
    frame = parse_push(body(ordered), "p", {"tz": "America/Chicago"}).to_frame()
    assert list(frame["time"]) == [
        utc("2026-11-01T06:30Z"),
        utc("2026-11-01T06:45Z"),
        utc("2026-11-01T07:15Z"),
        utc("2026-11-01T07:30Z"),
    ]
    gap = [
        {"exportId": "X_1", "timestamp": "2026-03-29 01:30:00", "value": 1},
        {"exportId": "X_1", "timestamp": "2026-03-29 03:00:00", "value": 2},
    ]
    result = parse_push(body(gap), "p", {"tz": "Europe/London"})
    assert len(result) == 1
    assert "does not exist" in result.problems[0].message
    assert result.problems[0].column == "points[0].time"


def test_field_paths_and_time_encoding_per_device() -> None:
    document = {"payload": {"items": [{"meta": {"eid": "Z_333"}, "t": "1780000000", "r": 5}]}}
    options = {
        "points_path": "payload.items",
        "id_path": "meta.eid",
        "time_path": "t",
        "value_path": "r",
        "time_encoding": "epoch_s",
    }
    frame = parse_push(body(document), "p", options).to_frame()
    assert frame["source_id"][0] == "Z_333"
    assert frame["time"][0] == pd.Timestamp(1780000000, unit="s", tz="UTC")
    with pytest.raises(SourceError, match="no points array"):
        parse_push(body(document), "p", {})


def test_missing_and_bad_values_and_register_settings() -> None:
    points = [
        {"exportId": "N_333", "timestamp": 1780000000, "value": "nan"},
        {"exportId": "N_333", "timestamp": 1780000060, "value": "abc"},
        {"exportId": "N_777", "timestamp": 1780000060, "value": 3},
        {"exportId": "N_300", "timestamp": 1780000060, "value": 4},
    ]
    options = {"register_sources": ["N_777"], "not_register_sources": ["N_300"]}
    columns = parse_push(body(points), "p", options)
    frame = columns.to_frame()
    assert list(frame["source_id"]) == ["N_777", "N_300"]
    assert list(frame["quantity"]) == ["kWh-register", "value"]
    [problem] = columns.problems
    assert problem.column == "points[1].value" and problem.value == "abc"


def test_nested_per_sensor_arrays() -> None:
    document = {"points": [{"exportId": "S_333", "values": [{"ts": 1780000000, "value": 1}]}]}
    frame = parse_push(body(document), "p", {}).to_frame()
    assert list(frame["source_id"]) == ["S_333"]


def test_garbage_is_a_source_error_naming_the_problem() -> None:
    with pytest.raises(SourceError, match=r"not valid JSON: .* line 1 column"):
        parse_push(b'{"points": [1,', "p", {})
    with pytest.raises(SourceError, match="keys found: foo"):
        parse_push(b'{"foo": 1}', "p", {})
    with pytest.raises(SourceError, match="neither JSON points nor an EpiSensor CSV"):
        parse_push(b"junk", "p", {})
    with pytest.raises(SourceError, match="no point could be read"):
        parse_push(b'[{"exportId": "a"}]', "p", {})


def test_dat_csv_export(tmp_path) -> None:
    text = (
        "id,timestamp,value\n"
        f"{NODE}_333,2026-01-10 10:00:00,100.25\n"
        f"{NODE}_333,2026-01-10 10:30:00,101.00\n"
        f"{NODE}_333,not a time,1\n"
    )
    path = tmp_path / "DAT_20260110.csv"
    path.write_text(text)
    connector = CONNECTOR
    assert connector.sniff(path.read_bytes(), path.name) > 0.5
    [batch] = list(connector.read(Source.from_path(path), {}))
    frame = batch.readings  # a file read on its own: registers differenced within it
    assert list(frame["value"]) == [pytest.approx(0.75)]
    assert list(frame["quantity"]) == ["kWh"] and list(frame["interval_s"]) == [1800]
    assert frame["time"][0] == utc("2026-01-10T10:30:00Z")
    assert frame["origin"][0] == f"{path.name}:3:3"
    assert batch.problems[0].line == 4 and batch.problems[0].column == "timestamp"
    [raw] = list(connector.read(Source.from_path(path), {"registers": "raw"}))
    assert list(raw.readings["value"]) == [100.25, 101.0]
    assert set(raw.readings["quantity"]) == {"kWh-register"}


def test_columns_build_a_schema_conformant_frame() -> None:
    columns = parse_push(body([{"exportId": "A_333", "ts": 1780000000, "v": 1}]), "p", {})
    frame = columns.to_frame()
    pd.testing.assert_frame_equal(frame, conform(frame))


def test_fast_path_equals_general_path() -> None:
    fast = [
        {"exportId": f"{NODE}_{s}", "timestamp": 1780000000 + 60 * i + m, "value": i * 0.5}
        for i in range(10)
        for s, m in (("333", 0), ("26", 0), ("500", 1780000000000 - 1780000000))
    ]
    general = [{"id": p["exportId"], "ts": p["timestamp"], "v": p["value"]} for p in fast]
    one = parse_push(body(fast), "p", {}).to_frame()
    two = parse_push(body(general), "p", {}).to_frame()
    pd.testing.assert_frame_equal(one, two)
    assert one["time"].max() < pd.Timestamp("2030-01-01", tz="UTC")
