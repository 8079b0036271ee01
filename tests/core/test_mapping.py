"""Mapping table: file parsing, precedence, defaults and multipliers."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from app.core.mapping import MappingError, apply_mapping, parse_mapping_csv
from connectors.base import make_readings

T0 = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)


def readings() -> pd.DataFrame:
    return make_readings(
        source_id=["A", "A", "B", "C"],
        quantity=["kWh", "kW", "kWh", "kWh"],
        time=[T0] * 4,
        value=[1.0, 2.0, 3.0, 4.0],
        interval_s=1800,
    )


def test_quantity_row_beats_plain_row_and_unmapped_goes_to_meter_import_id() -> None:
    table = parse_mapping_csv(
        "source_id,quantity,channel_import_id,meter_import_id,channel_id,multiplier\n"
        "A,,,M-A,,\n"
        "A,kW,CH-A-KW,,,\n"
        "B,,,,42,0.5\n"
    )
    out = apply_mapping(readings(), table)
    assert out["meter_import_id"].tolist()[:1] == ["M-A"]
    assert out.loc[1, "channel_import_id"] == "CH-A-KW"
    assert pd.isna(out.loc[1, "meter_import_id"])
    assert out.loc[2, "channel_id"] == 42
    assert out.loc[2, "value"] == pytest.approx(1.5)
    assert out.loc[3, "meter_import_id"] == "C"
    assert out["mapped"].tolist() == [True, True, True, False]
    assert out["observation_type"].tolist() == ["Use", "Demand", "Use", "Use"]
    assert out["unit_code"].tolist() == ["kWh", "kW", "kWh", "kWh"]


def test_mapping_codes_override_defaults() -> None:
    table = parse_mapping_csv("source_id,meter_import_id,observation_type,unit\nC,M,Usage,KWH\n")
    out = apply_mapping(readings(), table)
    assert out.loc[3, ["observation_type", "unit_code"]].tolist() == ["Usage", "KWH"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("meter_import_id\nX\n", "source_id column"),
        (
            "source_id,meter_import_id,channel_id\nA,M,3\n",
            "mapping:2: source 'A' needs at most one",
        ),
        ("source_id,channel_id\nA,x1\n", "mapping:2: column channel_id: 'x1'"),
        ("source_id,meter_import_id,multiplier\nA,M,ten\n", "column multiplier: 'ten'"),
    ],
)
def test_bad_mapping_files_are_named(text: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_mapping_csv(text)


def test_a_row_with_only_a_label_keeps_it_and_sends_to_the_default_target() -> None:
    table = parse_mapping_csv(
        "source_id,label,quantity,channel_import_id,meter_import_id,channel_id,multiplier\n"
        "A,Freshford C of E Primary,,,,,\n"
        "B,Bathford School,,,,,0.5\n"
    )
    assert table.labels() == {"A": "Freshford C of E Primary", "B": "Bathford School"}
    out = apply_mapping(readings(), table)
    assert out["meter_import_id"].tolist()[:3] == ["A", "A", "B"]  # the default: its own id
    assert out.loc[2, "value"] == pytest.approx(1.5)  # the row's multiplier still applies
    assert out["mapped"].tolist() == [False, False, False, False]  # still to be mapped
    again = parse_mapping_csv(table.to_csv())
    assert again.rows == table.rows


def test_round_trip_csv() -> None:
    text = "source_id,quantity,channel_import_id,multiplier\nA,kW,X,2.5\n"
    table = parse_mapping_csv(text)
    again = parse_mapping_csv(table.to_csv())
    assert again.rows == table.rows
