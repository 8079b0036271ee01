"""`csv_rows` splits a body into the rows the csv module gives (plain bodies by str.split)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import SourceError
from connectors.push.bodies import csv_rows, is_plain_csv

CHARACTERS = list('a1.-,;|\t \r\n"\x00\x0b\x0c\x1c\x1d\x1e\x1f\x85é\u2028')


def csv_module_rows(text: str, delimiter: str) -> list[list[str]] | str:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        return "refused"


def our_rows(text: str, delimiter: str) -> list[list[str]] | str:
    try:
        return csv_rows(text, "f.csv", delimiter)
    except SourceError as error:
        assert error.file == "f.csv" and "not a readable CSV body" in error.message
        return "refused"


@settings(max_examples=4000, deadline=None)
@given(
    st.text(st.sampled_from(CHARACTERS), max_size=40)
    | st.lists(st.text(st.sampled_from(list("a1.-, ")), max_size=6), max_size=6).map("\r\n".join),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_rows_are_the_csv_modules(text: str, delimiter: str) -> None:
    assert our_rows(text, delimiter) == csv_module_rows(text, delimiter)


def test_the_benchmark_csv_is_plain_and_quoted_or_odd_text_is_not() -> None:
    assert is_plain_csv("timestamp,DMD_P_001_kW\r\n1780000000,3.5\r\n")
    for odd in ('a,"b,c"\r\n', "a\x00b", "a\x0bb", "é", "a" * 200_000):
        assert not is_plain_csv(odd)
    assert csv_rows('a,"b,c"\r\n\r\nd\n', "f") == [["a", "b,c"], [], ["d"]]


def test_a_huge_field_is_still_refused_by_name() -> None:
    with pytest.raises(SourceError, match="field larger than field limit"):
        csv_rows("a" * 200_000, "big.csv")
