"""`quick_value` and `quick_values` (the readers' hot paths) read cells as `parse_value` does."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.push.common import parse_value, quick_value, quick_values

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


decimal_texts = st.floats(allow_nan=False, allow_infinity=False).map(str) | st.from_regex(
    r"[+-]?(?:[0-9]{1,6}\.?[0-9]{0,4}|\.[0-9]{1,3})(?:[eE][+-]?[0-9]{1,3})?", fullmatch=True
)
columns = st.one_of(
    st.lists(cells, max_size=12),
    st.lists(decimal_texts, max_size=60),
    st.lists(st.floats(allow_nan=False, allow_infinity=False) | st.integers(), max_size=60),
    st.lists(
        decimal_texts
        | st.sampled_from(["1\n2", "1\n", "\n1", "", " 2", "1e999", "nan", "-inf", "Infinity"])
        | st.sampled_from(["\x1c1.5\x1f", "\x0b2\r", "\xa03", "3\u2003", "1_0", "٣", "0x1"])
        | decimal_texts.map(lambda text: f" {text}\t")
        | st.sampled_from(["-0", "-0.0", "0", "-1e-400", "1e-400", "12345678901234567890", "01"])
        | st.sampled_from(["[1", "1]", '"1"', "true", "null", "1,2", "{}", "1e5", "-.5", "1E+2"]),
        max_size=8,
    ),
    st.lists(st.text(st.sampled_from(list("0123456789.+-eE _naif\t\n\x1c\r٣")), max_size=6)),
    st.lists(st.floats(max_value=1e308, min_value=1e307), min_size=2, max_size=4),
)


@settings(max_examples=3000, deadline=None)
@given(columns)
def test_quick_values_reads_a_column_as_quick_value_reads_each_cell(column: list[Any]) -> None:
    numbers = quick_values(column)
    if numbers is None:  # read one by one instead: something in it is not a plain number
        return
    assert [outcome(quick_value, cell) for cell in column] == [
        ("value", (number, math.copysign(1, number))) for number in numbers
    ]


def test_quick_values_reads_plain_columns_whole() -> None:
    assert quick_values(["1.5", "-2", ".5", "5.", "1e3"]) == [1.5, -2.0, 0.5, 5.0, 1000.0]
    assert quick_values([1, 2.5, -0.0]) == [1.0, 2.5, -0.0]
    assert quick_values([" 1 ", "\t2\r\n"]) == [1.0, 2.0]  # as quick_value strips them
    for mixed in (["1", None], ["1", "nan"], ["1", ""], ["1\n2"], ["1e999"], [True], [1, "2"]):
        assert quick_values(mixed) is None, mixed  # read one by one, each named


long_decimals = st.from_regex(
    r"-?(?:0|[1-9][0-9]{0,17})\.[0-9]{1,18}(?:[eE][+-]?[0-9]{1,3})?", fullmatch=True
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(long_decimals | st.floats(allow_nan=False).map(repr), min_size=1, max_size=20))
def test_quick_values_rounds_long_decimals_as_float_does(column: list[str]) -> None:
    numbers = quick_values(column)
    if numbers is None:  # an infinity among them, or their sum overflows: read one by one
        assert not math.isfinite(sum(float(cell) for cell in column))
        return
    assert [(n, math.copysign(1, n)) for n in numbers] == [
        (float(cell), math.copysign(1, float(cell))) for cell in column
    ]
