"""The targets table's keys are stored: the key of a channel never changes between versions."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from app.core.delivery.targets import KEY_COLUMNS, _target_key, target_keys
from app.core.mapping import apply_mapping, parse_mapping_csv
from connectors.base import make_readings


def test_each_way_of_naming_a_channel_keeps_its_key() -> None:
    times = pd.date_range("2026-03-29T00:30Z", periods=2, freq="30min")
    readings = pd.concat(
        [
            make_readings(source_id=sid, time=times, value=[1.0, 2.0], interval_s=1800)
            for sid in ("by-id", "by-import", "Zähler 7", "by-id")
        ],
        ignore_index=True,
    )
    mapping = parse_mapping_csv(
        "source_id,channel_id,channel_import_id\nby-id,42,\nby-import,,CH-9\n", "mapping.csv"
    )
    keys = target_keys(apply_mapping(readings, mapping), "esa").tolist()
    assert keys == [
        "esa|channel_id=42",
        "esa|channel_id=42",
        "esa|channel_import_id=CH-9",
        "esa|channel_import_id=CH-9",
        "esa|meter_import_id=Zähler 7|Use|kWh|1800",  # unmapped: the source id as meter
        "esa|meter_import_id=Zähler 7|Use|kWh|1800",
        "esa|channel_id=42",
        "esa|channel_id=42",
    ]


_IDS = st.sampled_from([None, "CH-1", "CH-2", "Zähler|7"])
_ROWS = st.lists(
    st.tuples(
        st.sampled_from([None, 7.0, 42.0]),  # channel_id (a float column: missing is NaN)
        _IDS,  # channel_import_id
        _IDS,  # meter_import_id
        st.sampled_from([None, "Use", "Demand"]),
        st.sampled_from([None, "kWh", "kW"]),
        st.sampled_from([0, 900, 1800]),
    ),
    max_size=40,
)


@given(_ROWS)
def test_keys_found_by_combination_are_those_of_each_row_alone(rows: list[tuple[Any, ...]]) -> None:
    frame = pd.DataFrame(
        {
            "channel_id": pd.array([r[0] for r in rows], dtype="Float64"),
            "channel_import_id": pd.array([r[1] for r in rows], dtype="string"),
            "meter_import_id": pd.array([r[2] for r in rows], dtype="string"),
            "observation_type": pd.array([r[3] for r in rows], dtype="string"),
            "unit_code": pd.array([r[4] for r in rows], dtype="string"),
            "interval_s": pd.array([r[5] for r in rows], dtype="int64"),
        }
    )
    one_by_one = [
        _target_key("readings", *row)
        for row in zip(*(frame[c].tolist() for c in KEY_COLUMNS), strict=True)
    ]
    keys = target_keys(frame, "readings").tolist()
    assert [None if k is pd.NA else k for k in keys] == one_by_one
