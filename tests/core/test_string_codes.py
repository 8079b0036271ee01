"""Encodings of string columns: one-value checks on buffers agree with hashing."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from app.core import string_codes


@pytest.mark.parametrize(
    ("values", "one"),
    [
        (["Use"] * 5, True),
        (["aa", "a", "aaa", "aa"], False),  # same bytes and total length, other cells
        (["", "", ""], True),
        (["Use", None, "Use"], False),
        ([None, None], True),
        (["Use", "Use", "Usf"], False),
    ],
)
@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_one_value_agrees_with_the_number_of_codes(
    values: list[str | None], one: bool, kind: Any
) -> None:
    array = pa.array(values, type=kind)
    column = pd.Series(pd.arrays.ArrowStringArray(array.cast(pa.large_string())))
    sliced = pa.array(["x", *values, "y"], type=kind).slice(1, len(values))
    assert string_codes.one_value(column) is one
    assert (
        string_codes.one_value(
            pd.Series(pd.arrays.ArrowStringArray(sliced.cast(pa.large_string())))
        )
        is one
    )
    assert string_codes._all_same(sliced) is (one and None not in values)
    assert (string_codes.codes(column)[1] == 1) is one
