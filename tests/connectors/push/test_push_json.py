"""Push bodies' JSON reads exactly as the json module reads it (orjson where they agree)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import SourceError
from connectors.push.bodies import NotANumberLiteral, load_json, loads_json

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),  # beyond 64 bits too: orjson would read those as floats
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (1 and 1.0, 0.0 and -0.0 told apart)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@settings(max_examples=400, deadline=None)
@given(documents, st.booleans())
def test_any_document_reads_as_the_json_module_reads_it(document: Any, ascii_only: bool) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only)
    assert same(loads_json(text), json.loads(text))
    assert same(load_json(text, "b.json"), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "[18446744073709551616]",
        "[-9223372036854775809]",
        "[12345678901234567890123, 1.5]",
        "[1e400]",
        '["\\ud800"]',
        '{"a": 1, "a": 2}',
        "[0.1, -0, -0.0, 1E5, 1e-400]",
    ],
)
def test_the_texts_where_orjson_and_json_differ_read_as_json_reads_them(text: str) -> None:
    assert same(loads_json(text), json.loads(text))


def test_errors_and_nan_literals_are_named_as_before() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_json("[1,]")
    with pytest.raises(SourceError, match="line 2 column 1"):
        load_json("[1,\n]", "b.json")
    with pytest.raises(NotANumberLiteral, match="field 'value'"):
        load_json('[{"value": NaN}]', "b.json")
