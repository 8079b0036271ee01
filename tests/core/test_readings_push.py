"""The Readings-API push fast path reads exactly what the connector reads, or steps aside."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.push_readers import _catalog_connector
from app.core.readings_push import parse_push
from connectors.base import Source, concat_batches

times = st.builds(
    lambda day, minute, second, offset: (
        f"2026-10-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:{second:02d}{offset}"
    ),
    st.integers(1, 31),
    st.integers(0, 1439),
    st.integers(0, 59),
    st.sampled_from(["Z", "+00:00", "+01:00", "-05:00", "+05:30"]),
)
reading = st.fixed_dictionaries(
    {"time": times, "value": st.floats(-1e9, 1e9, allow_nan=False)},
    optional={"estimated": st.booleans(), "note": st.text(max_size=5)},
)
target = st.fixed_dictionaries(
    {"readings": st.lists(reading, max_size=4)},
    optional={
        "channelImportId": st.sampled_from(["C1", "C2", " C3 "]),
        "meterImportId": st.sampled_from(["M1", "M2"]),
        "channelId": st.integers(0, 5),
        "observationTypeCode": st.sampled_from(["Use", "Demand", "Temp"]),
        "unitCode": st.sampled_from(["kWh", "kW", "degC"]),
        "channelIntervalInSeconds": st.sampled_from([0, 900, 3600]),
    },
)
odd = st.sampled_from(
    [
        {"time": "2026-10-25 01:00", "value": 1},  # no offset: needs the zone
        {"time": "2026-10-25T01:00:00Z", "value": "1.5"},  # a numeric string
        {"time": "2026-10-25T01:00:00Z", "value": None},
        {"Time": "2026-10-25T01:00:00Z", "value": 1},  # another casing
        {"time": "yesterday", "value": 1},
    ]
)


def general(body: bytes) -> tuple[pd.DataFrame, list[str], list[Any]]:
    connector = _catalog_connector("readings")
    batch = concat_batches(list(connector.read(Source.from_bytes(body, "b.json"), {})))
    problems = [p.describe() for p in batch.problems]
    return batch.readings.reset_index(drop=True), problems, batch.info["mapping_hint"]


@settings(max_examples=150, deadline=None)
@given(st.lists(target, max_size=5), st.one_of(st.none(), odd))
def test_fast_path_matches_the_connector_or_steps_aside(
    targets: list[dict[str, Any]], extra: dict[str, Any] | None
) -> None:
    if extra is not None and targets:
        targets[0]["readings"].append(extra)
    body = json.dumps(targets).encode()
    fast = parse_push(body, "b.json", {})
    frame, problems, hints = general(body)
    if fast is None:
        assert (
            extra is not None
            or problems
            or any(r.get("estimated") for t in targets for r in t["readings"])
            or any(
                not any(k in t for k in ("channelImportId", "meterImportId", "channelId"))
                for t in targets
            )
        )
        return
    mine = fast.to_frame()
    pd.testing.assert_frame_equal(mine[frame.columns], frame, check_dtype=False)
    assert [p.describe() for p in fast.problems] == problems
    assert fast.info["mapping_hint"] == hints


def test_other_shapes_step_aside() -> None:
    assert parse_push(b"not json", "b", {}) is None
    assert parse_push(b'{"readings": []}', "b", {}) is None
    one = {"time": "2026-01-01T00:00Z", "value": 1}
    body = json.dumps([{"channelImportId": "C1", "readings": [one]}]).encode()
    assert parse_push(body, "b", {"source_label": "start"}) is None
    read = parse_push(body, "b", {})
    assert read is not None and read.time_ns == [pd.Timestamp("2026-01-01T00:00Z").value]


def test_an_identity_checked_once_is_not_lent_to_true_or_a_float() -> None:
    """Identities are checked once per body and remembered across bodies: `true` and
    `1.0` equal 1 in Python, yet a channelId of either still steps aside."""
    one = {"time": "2026-01-01T00:00Z", "value": 1}
    good = {"channelId": 1, "readings": [one]}
    for other in ({"channelId": True}, {"channelId": 1.0}, {"channelIntervalInSeconds": True}):
        body = json.dumps([good, {**good, **other}]).encode()
        assert parse_push(body, "b", {}) is None, other
        assert parse_push(json.dumps([{**good, **other}]).encode(), "b", {}) is None, other
    read = parse_push(json.dumps([good, good]).encode(), "b", {})
    assert read is not None and read.source_id == ["1", "1"]
    assert read.origin == ["b:[0].readings[0].value", "b:[1].readings[0].value"]
