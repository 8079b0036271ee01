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


def test_the_pipeline_uses_the_readers_encodings_for_the_mapped_batch() -> None:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from app.core.mapping import MappingTable
    from app.core.pipeline import RunPlan, mapped_batches
    from app.core.report import RunResult
    from connectors.base import ReadingBatch, Source
    from connectors.registry import ConnectorRegistry
    from connectors.tabular.engine import UkHalfHourlyConnector

    class Recording(UkHalfHourlyConnector):
        def __init__(self) -> None:
            self.seen: list[ReadingBatch] = []

        def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
            for batch in super().read(source, options):
                self.seen.append(batch)
                yield batch

    path = Path(__file__).resolve().parents[1] / "data" / "hh" / "energy-assets.csv"
    source = Source.from_path(path)
    connector = Recording()
    plan = RunPlan([source], ConnectorRegistry([connector]), MappingTable())
    batches: Any = mapped_batches(plan, source, RunResult())
    mapped = next(batches)
    given = connector.seen[0].info["string_codes"]
    assert string_codes.encoded(mapped["source_id"]) is given["source_id"]
    assert string_codes.encoded(mapped["meter_import_id"]) is given["source_id"]  # unmapped
    assert string_codes.codes(mapped["quantity"])[1] == 1
    batches.close()  # the reader's threads end, the file is closed
