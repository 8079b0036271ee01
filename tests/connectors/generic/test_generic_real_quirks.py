"""The generic connector on what real exports do: an id column named like a category
beside the real one, a quote that swallows rows, a header with an open quote."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.base import ProblemKind, ReadingBatch, Source, SourceError, concat_batches
from connectors.generic.engine import GenericCsvConnector


def read(path: Path, **options: str) -> ReadingBatch:
    batch = concat_batches(list(GenericCsvConnector().read(Source.from_path(path), options)))
    return batch


def test_the_id_is_the_identifier_like_column_not_the_category(tmp_path: Path) -> None:
    path = tmp_path / "hh.csv"
    path.write_text(
        "MPAN core, Channel Type, Time, Value, Status\n"
        "2204707514535, ACTIVE, 2005-09-15 00:00, 1.0, A\n"
        "2204707514536, ACTIVE, 2005-09-15 00:00, 2.0, A\n"
    )
    batch = read(path, tz="UTC")
    assert batch.readings["source_id"].tolist() == ["2204707514535", "2204707514536"]


def test_digits_win_over_a_name_when_both_columns_resemble_an_id(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text(
        "Channel Name,Meter Ref,Timestamp,kWh\n"
        "Main,1900000000009,2024-01-15T00:30:00Z,1.5\n"
        "Main,1900000000010,2024-01-15T00:30:00Z,2.5\n"
    )
    batch = read(path)
    assert sorted(batch.readings["source_id"]) == ["1900000000009", "1900000000010"]


def test_a_quote_that_swallows_rows_is_named(tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    path.write_text(
        "id,time,value,note\n"
        'm1,2024-01-15T00:30:00Z,1.5,"open\n'
        "m1,2024-01-15T01:00:00Z,2.5,\n"
        'm1,2024-01-15T01:30:00Z,3.5,"closed"\n'
        'm1,2024-01-15T02:00:00Z,4.5,"a note\nover two lines"\n'
        "m1,2024-01-15T02:30:00Z,5.5,\n"
    )
    batch = read(path)
    bad = [(p.line, p.message) for p in batch.problems if p.kind == ProblemKind.BAD_VALUE]
    assert [line for line, _ in bad] == [2]
    assert "closed only 2 line(s) later" in bad[0][1]
    assert batch.readings["origin"].tolist()[-1].endswith("open.csv:7:3")  # lines stay exact


def test_a_header_with_an_open_quote_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "head.csv"
    path.write_text('id,time,value,"note\nm1,2024-01-15T00:30:00Z,1.5,\n')
    with pytest.raises(SourceError, match="never closed"):
        read(path)
