"""The targets table's keys are stored: the key of a channel never changes between versions."""

from __future__ import annotations

import pandas as pd

from app.core.delivery.targets import target_keys
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
