"""`quick_value` (the readers' hot path) reads every cell as `parse_value` does."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.push.common import parse_value, quick_value

cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**400), 10**400),
    st.floats(),
    st.text(st.sampled_from(list("0123456789.+-eE _naif\t\n٣")), max_size=12),
    st.sampled_from(["nan", "-nan", "----", "", " 1.5 ", "1e400", "infinity", "1_000", ".5", "5."]),
    st.floats(allow_nan=False).map(str),
)


def outcome(read: Any, cell: Any) -> tuple[str, Any]:
    try:
        value = read(cell)
    except ValueError as exc:
        return "error", str(exc)
    if value is None:
        return "missing", None
    return "value", (value, math.copysign(1, value))


@settings(max_examples=3000, deadline=None)
@given(cells)
def test_quick_value_reads_as_parse_value(cell: Any) -> None:
    assert outcome(quick_value, cell) == outcome(parse_value, cell)
