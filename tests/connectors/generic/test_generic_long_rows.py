"""Rows with many more cells than the header: named with their line, the other rows read.

pandas' C parser, given fewer column names than a row has cells, either stops or drops
the extra cells with a warning; the reader must do neither.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from connectors.base import ReadingBatch, Source, SourceError, concat_batches
from connectors.generic.engine import MAX_CELLS, GenericCsvConnector

# Found by test_hh_properties (a mutated bad_values.csv): the first row holds an open
# quote, so pandas read it with more cells than the header and dropped some with a warning.
HYPOTHESIS_INPUT = (
    b"\n\nMeter ID,Time,Value,Estimated,Note\n"
    b'A,2024-03-10 01:30,1.5,false,,"open\n'
    b"A,2024-03-10 02:30,2.5,false,\n"
    b'A,2024-03-10 03:00,3.5,yes,"multi,"open\n'
    b"A,2024-03-10 03:30,abc,no,\n"
    b"A,not a time,4.5,,\n"
    b",2024-03-10 04:00,5.5,,\n"
    b'A,2024-03-10 04:30,"1,234",,\n'
    b"A,2024-03-10 05:00,6.5,maybe,\n"
    b"\n"
    b"A,2024-03-10 05:30,7.5,E,\n"
    b"A,2024-03-10 06:00,8.5,A,ok,extra\n"
    b"A,2024-03-10 06:30,NaN,,\n"
    b"A,2024-03-10 07:00,,,\n"
    b"A,2024-03-10 07:30,-1e1,Actual,\n"
)


def read(data: bytes, **options: Any) -> ReadingBatch:
    """The whole file read; any warning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        source = Source.from_bytes(data, "long.csv")
        return concat_batches(list(GenericCsvConnector().read(source, options)))


def origins(batch: ReadingBatch) -> list[tuple[str, float]]:
    return list(zip(batch.readings["origin"], batch.readings["value"], strict=True))


def named_lines(batch: ReadingBatch) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for problem in batch.problems:
        assert problem.file == "long.csv"
        found.setdefault(problem.line or 0, []).append(problem.message)
    return found


def test_first_row_longer_than_the_reader_allows_is_named_and_the_rest_read() -> None:
    batch = read(HYPOTHESIS_INPUT, tz="UTC")
    assert origins(batch) == [("long.csv:13:3", 7.5), ("long.csv:17:3", -10.0)]
    problems = named_lines(batch)
    assert sorted(problems) == [4, 11, 14, 15, 16]
    assert any("the row has 8 cells but the header has 5" in m for m in problems[4])
    assert any("closed only 6 line(s) later" in m for m in problems[4])
    assert any("6 cells" in m for m in problems[14])


@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_a_long_row_mid_file_is_named_with_its_line_and_later_lines_stay_right(
    chunk_rows: int,
) -> None:
    data = (
        b"id,time,value,note\n"
        b"A,2024-01-01T00:00Z,1,plain\n"
        b'A,2024-01-01T00:30Z,2,"a note\nover two lines"\n'
        b"A,2024-01-01T01:00Z,3," + b"x," * 20 + b"x\n"
        b'A,2024-01-01T01:30Z,4,"another\nnote"\n'
        b"A,2024-01-01T02:00Z,5,\n"
    )
    batch = read(data, chunk_rows=chunk_rows)
    assert origins(batch) == [
        ("long.csv:2:3", 1.0),
        ("long.csv:3:3", 2.0),
        ("long.csv:6:3", 4.0),
        ("long.csv:8:3", 5.0),
    ]
    assert named_lines(batch) == {
        5: [
            "the row has 24 cells but the header has 4; a delimiter inside an unquoted "
            "value (e.g. a thousands separator) splits a cell, so the row is not used"
        ]
    }


def test_a_row_with_more_cells_than_any_csv_row_refuses_the_file_saying_so() -> None:
    data = b"id,time,value\nA,2024-01-01T00:00Z,1\n" + b"x," * MAX_CELLS + b"x\n"
    with pytest.raises(SourceError, match=f"more than {MAX_CELLS} cells"):
        read(data)
