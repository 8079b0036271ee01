"""The UK HH reader hands the pipeline the encodings of its string columns, hashed per row.

They must be exactly what hashing the readings' own strings gives (first-seen
order), whatever rows are skipped: gaps, held-back days, rows without an id,
several blocks, per-row units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from app.core import string_codes
from connectors.base import ReadingBatch, Source
from connectors.tabular.engine import UkHalfHourlyConnector

DATA = Path(__file__).resolve().parents[2] / "data" / "hh"
LABELS = [f"{(m // 60) % 24:02d}:{m % 60:02d}" for m in range(30, 1441, 30)]


def batches(path: Path, **options: Any) -> list[ReadingBatch]:
    return list(UkHalfHourlyConnector().read(Source.from_path(path), options))


def assert_codes_match(batch: ReadingBatch) -> int:
    """Every encoding a batch carries equals dictionary_encode of its column; returns how many."""
    given = batch.info.get("string_codes") or {}
    for column, encoding in given.items():
        strings = pa.array(batch.readings[column].array, type=pa.large_string())
        expected = pc.dictionary_encode(strings)
        assert encoding.dictionary.to_pylist() == expected.dictionary.to_pylist(), column
        assert encoding.indices.to_pylist() == expected.indices.to_pylist(), column
    return len(given)


def test_codes_skip_rows_without_readings_and_keep_first_seen_order(tmp_path: Path) -> None:
    values = ",".join(f"{i + 1}" for i in range(48))
    blank = "," * 47
    lines = [
        "MPAN,Date," + ",".join(LABELS),
        f"2000000000009,01/03/2024,{values}",
        f"1000000000001,01/03/2024,{blank}",  # no values: never seen
        f"1000000000002,01/03/2024,{values}",
        f"2000000000009,02/03/2024,{values}",
        f"3000000000003,27/10/2024,{values}",  # 50-period day: held back, never seen
        f",02/03/2024,{values}",  # no id: named, skipped
        f"1000000000002,31/03/2024,{values}",  # spring day: held back
        f"1000000000001,02/03/2024,{values}",
    ]
    path = tmp_path / "ids.csv"
    path.write_text("\n".join(lines) + "\n")
    found = [b for b in batches(path) if len(b.readings)]
    assert sum(assert_codes_match(b) for b in found) == 3  # source_id, quantity, unit
    encoding = found[0].info["string_codes"]["source_id"]
    assert encoding.dictionary.to_pylist() == ["2000000000009", "1000000000002", "1000000000001"]


@pytest.mark.parametrize(
    "name", ["energy-assets.csv", "imserv-flags.csv", "stark-portal.csv", "banes.csv", "npower.csv"]
)
def test_codes_of_every_block_match_the_columns(name: str) -> None:
    counted = sum(assert_codes_match(b) for b in batches(DATA / name, block_size=512))
    assert counted > 0


@pytest.mark.parametrize("name", ["sse.csv", "sheffield.csv"])
def test_several_quantities_in_a_block_give_no_codes_or_right_ones(name: str) -> None:
    for batch in batches(DATA / name, block_size=1024):  # a block holds the longest row
        assert_codes_match(batch)


def test_remembered_codes_are_used_and_wrong_ones_refused() -> None:
    batch = batches(DATA / "energy-assets.csv")[0]
    frame, given = batch.readings, batch.info["string_codes"]
    assert string_codes.remember(frame["source_id"], given["source_id"])
    assert string_codes.encoded(frame["source_id"]) is given["source_id"]
    wrong = pa.DictionaryArray.from_arrays(pa.array([0], pa.int32()), pa.array(["x"]))
    assert not string_codes.remember(frame["origin"], wrong)  # another length
    codes, count = string_codes.codes(frame["origin"])
    assert count == len(set(frame["origin"])) and len(codes) == len(frame)


def test_repeated_meter_days_are_sent_once_or_held_when_values_differ(tmp_path: Path) -> None:
    from app.core.connector_catalog import build_registry
    from app.core.mapping import MappingTable
    from app.core.pipeline import RunPlan, convert

    values = [f"{i + 1}" for i in range(48)]
    changed = [*values[:3], "99", *values[4:]]
    lines = [
        "MPAN,Date," + ",".join(LABELS),
        "1000000000001,01/03/2024," + ",".join(values),
        "1000000000002,01/03/2024," + ",".join(values),
        "1000000000001,01/03/2024," + ",".join(values),  # the same again: sent once
        "1000000000002,01/03/2024," + ",".join(changed),  # 02:00 differs: both held
    ]
    path = tmp_path / "twice.csv"
    path.write_text("\n".join(lines) + "\n")
    run = RunPlan([Source.from_path(path)], build_registry(), MappingTable())
    result = convert(run, tmp_path / "out")
    assert (result.written, result.held_back) == (2 * 48 - 1, 2)
    held = sorted((p.line, p.column) for p in result.problems if p.source_id == "1000000000002")
    assert held == [(3, "02:00"), (5, "02:00")]


@pytest.mark.parametrize(
    ("ids", "counts"),
    [
        (["1000000000001", None, "1000000000002", "1000000000001"], [3, 0, 2, 1]),
        (["A1", "B22", "C3"], [2, 1, 2]),  # lengths differ: taken by Arrow
        (["A1", None, "C3"], [0, 0, 0]),
        (["X"], [48]),
    ],
)
def test_source_ids_repeated_per_row_equal_taking_them(
    ids: list[str | None], counts: list[int]
) -> None:
    import numpy as np

    from connectors.tabular.cells import rows_repeated

    per_row = pa.array(ids, pa.large_string()).slice(0)
    got = rows_repeated(per_row, counts)
    rows = np.repeat(np.arange(len(ids)), counts)
    assert got.type == pa.large_string()
    assert got.to_pylist() == pc.take(per_row, pa.array(rows, pa.int64())).to_pylist()
