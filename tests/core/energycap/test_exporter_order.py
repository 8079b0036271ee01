"""Readings/ESA bodies over shuffled readings of many channels: each reading exactly once,
under its own channel, a channel's readings in time order, traced back to its row."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.energycap.exporter import api_batches
from app.core.energycap.models import READING_ID_KEYS
from app.core.mapping import apply_mapping, parse_mapping_csv
from connectors.base import make_readings

MAPPING = "source_id,channel_id,channel_import_id\nby-id,42,\nby-import,,CH-9\nalso-42,42,\n"
TARGETS = {
    "by-id": [42, None, None],
    "also-42": [42, None, None],
    "by-import": [None, "CH-9", None],
}
SOURCES = ["by-id", "by-import", "also-42", "Zähler 7", "meter-b"]  # the last two: unmapped
READING = st.tuples(
    st.sampled_from(SOURCES),
    st.integers(0, 40),  # which quarter-hour
    st.floats(-1e6, 1e6, allow_nan=False),
    st.booleans(),
    st.sampled_from([None, "", "est"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(READING, min_size=1, max_size=60), st.integers(1, 25))
def test_each_reading_goes_once_under_its_channel_in_time_order(
    rows: list[tuple[Any, ...]], batch_size: int
) -> None:
    frame = make_readings(
        source_id=[r[0] for r in rows],
        time=pd.to_datetime([1_790_000_000 + 900 * r[1] for r in rows], unit="s", utc=True),
        value=[r[2] for r in rows],
        interval_s=900,
        estimated=[r[3] for r in rows],
        note=[r[4] for r in rows],
    )
    mapped = apply_mapping(frame, parse_mapping_csv(MAPPING))
    batches = list(api_batches(mapped, api="readings", batch_size=batch_size))
    positions = [int(p) for b in batches for p in b.rows]
    assert sorted(positions) == list(range(len(rows)))
    assert all(b.count <= batch_size for b in batches)
    seen: dict[str, list[str]] = {}
    for batch in batches:
        items = iter(batch.rows.tolist())
        for create in batch.body:
            channel = str([create.get(k) for k in READING_ID_KEYS])
            for reading in create["readings"]:
                source, _, value, estimated, note = rows[next(items)]
                assert channel == str(TARGETS.get(source, [None, None, source]))
                assert (reading["value"], reading["estimated"]) == (value, estimated)
                assert reading.get("note") == (note or None)
                seen.setdefault(channel, []).append(reading["time"])
    assert all(times == sorted(times) for times in seen.values())
