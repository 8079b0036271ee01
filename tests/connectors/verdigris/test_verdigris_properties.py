"""Property-based: whatever rows Verdigris sends, the reader gives readings the rows contain
(finite, for ids asked for, at times inside the window) or named problems, never an exception."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import ProblemKind
from connectors.verdigris.connector import Request, to_readings
from connectors.verdigris.grid import make_grid

START = datetime(2026, 3, 29, tzinfo=UTC)  # a London clock-change day, for the 1d grid
IDS = ("100", "101")

stamps = st.one_of(
    st.datetimes(
        min_value=datetime(2026, 3, 28), max_value=datetime(2026, 4, 1), timezones=st.just(UTC)
    ).map(datetime.isoformat),
    st.integers(min_value=-(2**70), max_value=2**70),  # epoch ms, some far out of range
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.none(),
    st.booleans(),
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from(["1e400", "-1e400", "NaN", "Infinity", "-inf", "12.5", "12abc", "", " 3"]),
    st.text(max_size=12),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
rows = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"id": st.sampled_from([*IDS, "999", 100, None]), "timestamp": stamps, "energy": values}
        ),
        st.dictionaries(st.text(max_size=8), values, max_size=3),
        values,
    ),
    max_size=25,
)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows,
    interval=st.sampled_from(["15m", "1h", "1d"]),
    label=st.sampled_from(["start", "end"]),
)
def test_readings_come_from_the_rows_or_are_named(
    rows: list[Any], interval: str, label: str
) -> None:
    grid = make_grid(interval, "Europe/London" if interval == "1d" else "")
    request = Request("energy", "circuit", IDS, START, grid.add(START, 4))
    batch = to_readings(rows, request, grid, label)
    readings = batch.readings
    assert np.isfinite(readings["value"].to_numpy(dtype="float64")).all()
    offered = {
        (f"verdigris:circuit:{r['id']}", number / 1000.0)
        for r in rows
        if isinstance(r, dict) and str(r.get("id")) in IDS
        for number in [_number(r.get("energy", r.get("value")))]
        if number is not None
    }
    for source, value in zip(readings["source_id"], readings["value"], strict=True):
        assert (source, value) in offered
    times = readings["time"]
    assert ((times > request.start) & (times <= request.end)).all()
    assert all(p.kind is ProblemKind.BAD_VALUE and p.message for p in batch.problems)


def test_non_finite_values_are_named_with_where_they_came_from() -> None:
    grid = make_grid("15m")
    request = Request("energy", "circuit", IDS, START, START + timedelta(hours=1))
    stamp = START.isoformat()
    sent = [{"id": "100", "timestamp": stamp, "energy": v} for v in ("NaN", "1e400", 10**400)]
    sent.append({"id": "101", "timestamp": stamp, "energy": 2500})
    batch = to_readings(sent, request, grid)
    assert batch.readings["value"].tolist() == [2.5]
    named = [p for p in batch.problems if "not a finite number" in p.message]
    assert [p.value for p in named][:2] == ["NaN", "1e400"] and len(named) == 3
    assert all(p.file and "ids=100@" in p.file for p in named)
