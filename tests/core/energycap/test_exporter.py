"""Exporter: Readings/ESA bodies and Import API files, as EnergyCAP would read them."""

from __future__ import annotations

import csv
import io
import json
import re

import pandas as pd
import pytest

from app.core.energycap.exporter import (
    ExportError,
    api_batches,
    import_files,
)
from app.core.energycap.transport import EncodedJson, encoded_json
from app.core.mapping import apply_mapping, parse_mapping_csv
from connectors.base import make_readings

OFFSET_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def london_fall_back() -> pd.DataFrame:
    """Half-hours ending 00:30 … 03:00 local on 27 Oct 2024 (01:00–02:00 BST happens twice)."""
    ends = pd.date_range("2024-10-26T23:30Z", periods=7, freq="30min")
    return make_readings(
        source_id="MPAN1",
        time=ends,
        value=[0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5],
        interval_s=1800,
        estimated=[False, True, False, False, False, False, False],
        note=[None, "est", None, None, None, None, None],
        origin=[f"hh.csv:{n}:3" for n in range(2, 9)],
    )


def mapped(frame: pd.DataFrame, mapping: str = "source_id,meter_import_id\n") -> pd.DataFrame:
    return apply_mapping(frame, parse_mapping_csv(mapping))


def all_items(batches: list) -> list[dict]:
    return [r for b in batches for item in b.body for r in item["readings"]]


def test_readings_body_labels_interval_end_by_default_with_explicit_offsets() -> None:
    frame = mapped(london_fall_back())
    batches = list(api_batches(frame, api="readings"))
    items = all_items(batches)
    assert [i["time"] for i in items][:3] == [
        "2024-10-26T23:30:00+00:00",
        "2024-10-27T00:00:00+00:00",
        "2024-10-27T00:30:00+00:00",
    ]
    assert all(OFFSET_TIME.match(i["time"]) for i in items)
    assert len({i["time"] for i in items}) == 7, "the repeated local hour stays two UTC hours"
    assert [i["value"] for i in items] == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]
    assert items[1]["estimated"] is True and items[1]["note"] == "est"
    body = batches[0].body[0]
    assert body["meterImportId"] == "MPAN1"
    assert (body["observationTypeCode"], body["unitCode"]) == ("Use", "kWh")
    assert body["channelIntervalInSeconds"] == 1800


def test_start_label_moves_every_time_back_one_interval() -> None:
    frame = mapped(london_fall_back())
    items = all_items(list(api_batches(frame, api="readings", label="start")))
    assert items[0]["time"] == "2024-10-26T23:00:00+00:00"
    assert items[-1]["time"] == "2024-10-27T02:00:00+00:00"


def test_start_label_needs_a_known_interval() -> None:
    frame = mapped(
        make_readings(source_id="X", time=[pd.Timestamp("2024-01-01", tz="UTC")], value=[1])
    )
    with pytest.raises(ExportError, match="interval length unknown"):
        list(api_batches(frame, api="readings", label="start"))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_value_that_is_not_finite_never_goes_into_a_json_body(value: float) -> None:
    # the bodies are encoded by orjson, which would write NaN as null: refused before that
    frame = mapped(london_fall_back())
    frame.loc[3, "value"] = value
    with pytest.raises(ExportError, match="not a finite number"):
        list(api_batches(frame, api="readings"))


def test_the_encoded_body_reads_back_as_the_body() -> None:
    body = next(api_batches(mapped(london_fall_back()), api="readings")).body
    encoded = encoded_json(body)
    assert isinstance(encoded, EncodedJson) and json.loads(encoded) == body
    assert encoded_json([{"channelId": 2**70}]) == [{"channelId": 2**70}]  # for json to encode


def test_batches_hold_at_most_batch_size_and_trace_rows_back() -> None:
    frame = mapped(london_fall_back())
    batches = list(api_batches(frame, api="readings", batch_size=3))
    assert [b.count for b in batches] == [3, 3, 1]
    rows = [int(r) for b in batches for r in b.rows]
    assert sorted(rows) == list(range(7))
    first = batches[1]
    origins = frame.loc[first.rows, "origin"].tolist()
    assert origins == ["hh.csv:5:3", "hh.csv:6:3", "hh.csv:7:3"]
    assert [i["value"] for i in first.body[0]["readings"]] == frame.loc[
        first.rows, "value"
    ].tolist()


def test_esa_body_uses_esa_identifiers_and_minutes() -> None:
    table = "source_id,channel_import_id\nMPAN1,ESA-CH-1\n"
    body = next(iter(api_batches(mapped(london_fall_back(), table), api="esa"))).body[0]
    assert body["esaChannelImportId"] == "ESA-CH-1"
    assert body["esaChannelIntervalMinutes"] == 30
    assert "channelIntervalInSeconds" not in body
    unmapped = next(iter(api_batches(mapped(london_fall_back()), api="esa"))).body[0]
    assert unmapped["dataPointImportId"] == "MPAN1"


def test_import_file_and_profile_read_back_to_the_same_readings() -> None:
    frame = mapped(london_fall_back(), "source_id,channel_import_id,multiplier\nMPAN1,CH-1,2\n")
    (only,) = import_files(frame, time_zone_id=42, stem="t")
    rows = list(csv.reader(io.StringIO(only.data.decode("utf-8"))))
    profile = only.profile
    assert rows[0] == ["ImportId", "Timestamp", "Value", "Estimated", "Note"]
    assert profile["numberOfHeaderRows"] == 1 and profile["numberOfColumns"] == len(rows[1])
    assert profile["channelImportIdColumnNumber"] == 1
    assert profile["timestampFormat"] == "yyyy-MM-dd HH:mm:sszzz"
    assert profile["timeZoneId"] == 42 and profile["channelIntervalInSeconds"] == 1800
    assert profile["dataMapping"] == [
        {"columnNumber": 3, "observationTypeCode": "Use", "unitCode": "kWh"}
    ]
    data = rows[1:]
    times = pd.to_datetime([r[profile["timestampColumnNumber"] - 1] for r in data], utc=True)
    assert list(times) == list(london_fall_back()["time"])
    assert all(r[1].endswith("+00:00") for r in data)
    assert [float(r[2]) for r in data] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert [r[3] == profile["estimated"]["indicator"] for r in data][:2] == [False, True]
    assert data[1][4] == "est"


def test_import_cells_with_commas_and_quotes_are_quoted() -> None:
    frame = make_readings(
        source_id='A,"1"',
        time=[pd.Timestamp("2024-01-01T00:30Z")],
        value=[1.25],
        interval_s=1800,
        note=['says "hi", twice'],
    )
    (only,) = import_files(mapped(frame))
    row = list(csv.reader(io.StringIO(only.data.decode())))[1]
    assert row == ['A,"1"', "2024-01-01 00:30:00+00:00", "1.25", "", 'says "hi", twice']


def test_import_files_split_by_id_kind_codes_and_interval() -> None:
    frame = make_readings(
        source_id=["A", "A", "B"],
        quantity=["kWh", "kW", "kWh"],
        time=[pd.Timestamp("2024-01-01T00:30Z")] * 3,
        value=[1, 2, 3],
        interval_s=1800,
    )
    files = import_files(mapped(frame, "source_id,channel_import_id\nB,CH-B\n"))
    kinds = sorted(
        (
            "channel" if "channelImportIdColumnNumber" in f.profile else "meter",
            f.profile["dataMapping"][0]["unitCode"],
            f.count,
        )
        for f in files
    )
    assert kinds == [("channel", "kWh", 1), ("meter", "kW", 1), ("meter", "kWh", 1)]


def test_import_refuses_numeric_channel_ids() -> None:
    frame = mapped(london_fall_back(), "source_id,channel_id\nMPAN1,7\n")
    with pytest.raises(ExportError, match="channel_id"):
        import_files(frame)
