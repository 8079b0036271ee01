"""The Readings API JSON connector: validation with paths, and a faithful relay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.core.mapping import MappingRow, MappingTable, apply_mapping
from connectors.base import ProblemKind, ReadingBatch, Source, SourceError, concat_batches
from connectors.generic.readings_json import ReadingsJsonConnector

DATA = Path(__file__).resolve().parents[2] / "data" / "generic"


def read(name: str, **options: Any) -> ReadingBatch:
    source = Source.from_path(DATA / name)
    return concat_batches(list(ReadingsJsonConnector().read(source, options)))


def read_json(body: Any, **options: Any) -> ReadingBatch:
    source = Source.from_bytes(json.dumps(body).encode(), "body.json")
    return concat_batches(list(ReadingsJsonConnector().read(source, options)))


def utc(*stamps: str) -> list[pd.Timestamp]:
    return [pd.Timestamp(s, tz="UTC") for s in stamps]


def test_valid_body_keeps_exact_instants_values_flags_and_notes() -> None:
    batch = read("readings_api.json")
    r = batch.readings
    assert batch.problems == []
    assert list(r["source_id"]) == ["C11", "C11", "C11", "M2", "M2", "42"]
    assert list(r["time"]) == utc(
        "2024-11-03 05:30", "2024-11-03 06:30", "2024-11-03 07:00",
        "2024-10-27 00:00", "2024-10-27 01:00", "2025-11-02 06:15",
    )  # fmt: skip
    assert list(r["value"]) == [1.5, 2.5, 0.0, 50.25, 51.75, -3.0]
    assert list(r["estimated"]) == [False, True, False, False, False, False]
    assert r["note"][1] == "second 01:30" and r["note"].isna().sum() == 5
    assert list(r["interval_s"]) == [1800, 1800, 1800, 3600, 3600, 900]
    assert list(r["quantity"]) == ["kWh", "kWh", "kWh", "Temperature", "Temperature", "kW"]
    assert list(r["unit"]) == ["kWh", "kWh", "kWh", "F", "F", "kW"]
    assert r["origin"][4] == f"{DATA / 'readings_api.json'}:[1].readings[1].value"


def test_mapping_hints_relay_identifier_kind_and_codes() -> None:
    batch = read("readings_api.json")
    assert batch.info["mapping_hint"] == [
        {"source_id": "C11", "quantity": "kWh", "channel_import_id": "C11",
         "observation_type": "Use", "unit": "kWh"},
        {"source_id": "M2", "quantity": "Temperature", "meter_import_id": "M2",
         "observation_type": "Temperature", "unit": "F"},
        {"source_id": "42", "quantity": "kW", "channel_id": 42,
         "observation_type": "Demand", "unit": "kW"},
    ]  # fmt: skip
    table = MappingTable(rows=[MappingRow(**hint) for hint in batch.info["mapping_hint"]])
    mapped = apply_mapping(batch.readings, table)
    first = mapped.drop_duplicates("source_id").set_index("source_id")
    assert first.loc["C11", "channel_import_id"] == "C11"
    assert first.loc["M2", "meter_import_id"] == "M2"
    assert first.loc["42", "channel_id"] == 42
    assert list(first["observation_type"]) == ["Use", "Temperature", "Demand"]
    assert list(first["unit_code"]) == ["kWh", "F", "kW"]


def test_without_hints_the_default_mapping_still_keeps_non_default_codes() -> None:
    mapped = apply_mapping(read("readings_api.json").readings, MappingTable())
    m2 = mapped[mapped["source_id"] == "M2"]
    assert set(m2["observation_type"]) == {"Temperature"} and set(m2["unit_code"]) == {"F"}
    assert set(m2["meter_import_id"]) == {"M2"}


def test_invalid_parts_are_named_by_json_path_and_the_rest_comes_through() -> None:
    batch = read("readings_api_bad.json")
    messages = [p.message for p in batch.problems]
    expected = [
        "[1].channelIntervalInSeconds: '1800' is not a whole number ≥ 0",
        "[2].readings: 'none' is not an array of readings",
        "[3].readings[17].value: 'abc' is not a number",
        "[3].readings[18].time: 'yesterday' is not an ISO 8601 time",
        "[3].readings[19].time: None is not a time (ISO 8601 text)",
        "[3].readings[21].estimated: 'yes' is not true or false",
        "[3].readings[22].note: 7 is not text",
        "[3].readings[23]: 'text' is not a reading object {time, value}",
        "[3].readings[24].value: True is not a number",
        "[4]: has no channelId, channelImportId or meterImportId",
        "[5]: 'not an object' is not a ReadingCreate object",
        "[3].readings[20].time: '2024-06-01T10:00:00' has no UTC offset and no time zone "
        "was given (--tz)",
    ]
    assert sorted(messages) == sorted(expected)
    assert all(p.file == str(DATA / "readings_api_bad.json") for p in batch.problems)
    assert {p.kind for p in batch.problems} == {ProblemKind.BAD_VALUE}
    r = batch.readings
    assert list(r["source_id"].unique()) == ["C1", "M4"]
    assert len(r[r["source_id"] == "M4"]) == 17
    assert "abc" not in set(r["origin"]) and r["value"].notna().all()


def test_naive_times_are_localised_with_tz_and_clock_changes_named() -> None:
    body = [
        {"meterImportId": "M", "readings": [
            {"time": "2024-11-03T01:00:00", "value": 1},
            {"time": "2024-11-03T01:00:00", "value": 2},
            {"time": "2024-03-10T02:30:00", "value": 3},
        ]},
        {"meterImportId": "N", "readings": [{"time": "2024-11-03T01:30:00", "value": 4}]},
    ]  # fmt: skip
    batch = read_json(body, tz="America/New_York")
    assert list(batch.readings["time"]) == utc("2024-11-03 05:00", "2024-11-03 06:00")
    assert list(batch.readings["value"]) == [1.0, 2.0]
    kinds = {p.message.split(":")[0]: p.kind for p in batch.problems}
    assert kinds == {
        "[0].readings[2].time": ProblemKind.BAD_VALUE,
        "[1].readings[0].time": ProblemKind.HELD_BACK,
    }


def test_single_object_and_wrapped_forms_are_accepted() -> None:
    one = {"channelImportId": "C", "readings": [{"time": "2024-06-01T00:00:00Z", "value": 1}]}
    assert read_json(one).info["form"] == "object"
    wrapped = read_json({"readings": [one]})
    assert wrapped.info["form"] == "wrapped"
    assert list(wrapped.readings["time"]) == utc("2024-06-01 00:00")
    bad = read_json({"readings": [{**one, "readings": [{"time": "x", "value": 1}]}]})
    assert bad.problems[0].message.startswith("readings[0].readings[0].time: 'x'")


def test_shapes_that_are_not_a_readings_body_are_refused() -> None:
    with pytest.raises(SourceError, match="not a Readings API body"):
        read_json({"readings": [{"time": "2024-06-01T00:00:00Z", "value": 1}]})
    with pytest.raises(SourceError, match="not a Readings API body"):
        read_json({"data": []})
    broken = Source.from_bytes(b'[{"meterImportId": "M",\n "readings": [}]', "broken.json")
    with pytest.raises(SourceError, match=r"not valid JSON.*line 2"):
        list(ReadingsJsonConnector().read(broken, {}))


def test_start_label_adds_the_channel_interval() -> None:
    body = [
        {"channelImportId": "C", "channelIntervalInSeconds": 900,
         "readings": [{"time": "2024-06-01T00:00:00Z", "value": 1}]},
        {"channelImportId": "D", "readings": [{"time": "2024-06-01T00:00:00Z", "value": 2}]},
    ]  # fmt: skip
    batch = read_json(body, source_label="start")
    assert list(batch.readings["time"]) == utc("2024-06-01 00:15")
    [held] = batch.problems
    assert held.kind == ProblemKind.HELD_BACK and held.source_id == "D"


def test_sniff_prefers_readings_bodies() -> None:
    connector = ReadingsJsonConnector()
    assert connector.sniff((DATA / "readings_api.json").read_bytes(), "a.json") == 0.9
    assert connector.sniff(b'{"readings": []}', "a.json") == 0.5
    assert connector.sniff(b"id,time,value\n", "a.csv") == 0.0
    assert connector.sniff(b'[{"other": 1}]', "a.json") == 0.0
