"""The quirks of real UK HH files from other tools, on generated samples (issue 16).

Each file of tests/data/hh made by `compose_quirks.py` reproduces, with made-up meters,
what a real export in ../shared/samples/hh-real does: no header row, UTF-16, `1 07 2024`
dates with 12-hour labels, Chellow's CSV, the Stark .df2 details, and lines that were
once dropped without a word. Values are `row*100 + slot + 1` (slot: 0-based half-hour).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from app.core.connector_catalog import build_registry
from connectors.base import ProblemKind, ReadingBatch, Source, SourceError, concat_batches
from connectors.tabular.df2 import StarkDf2Connector
from connectors.tabular.engine import UkHalfHourlyConnector

DATA = Path(__file__).resolve().parents[2] / "data" / "hh"
START = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, 30)]


def read(path: Path, **options: Any) -> ReadingBatch:
    """Read as `--connector auto` does."""
    source = Source.from_path(path)
    best = build_registry().best(source)
    assert best is not None
    return concat_batches(list(best.connector.read(source, options)))


def value_at(batch: ReadingBatch, source: str, when: str, quantity: str = "kWh") -> list[float]:
    frame = batch.readings
    hit = frame[
        (frame["source_id"] == source)
        & (frame["time"] == pd.Timestamp(when, tz="UTC"))
        & (frame["quantity"] == quantity)
    ]
    return hit["value"].tolist()


def named(batch: ReadingBatch) -> list[tuple[str, int | None]]:
    return sorted((str(p.kind), p.line) for p in batch.problems)


def test_headerless_bglobal_rows_are_utc_days() -> None:
    batch = read(DATA / "bglobal-no-header.csv")
    assert batch.info["layout"] == "bglobal" and batch.info["tz"] == "UTC"
    assert value_at(batch, "2000000000011", "2024-07-15T00:30") == [101]  # 00:00-00:30 UTC
    assert value_at(batch, "2000000000011", "2024-07-15T01:00") == []  # the blank value
    assert value_at(batch, "2000000000011", "2024-07-17T00:00") == [248]
    assert len(batch.readings) == 95
    assert batch.readings["origin"].iloc[0] == "bglobal-no-header.csv:1:00:00"
    assert named(batch) == [("warning", 1)]  # the blank half-hour, named


def test_headerless_imserv_rows_are_local_days_whatever_the_line_endings() -> None:
    batch = read(DATA / "imserv-no-header.csv")
    assert batch.info["layout"] == "imserv-headerless" and batch.info["tz"] == "Europe/London"
    assert value_at(batch, "10545307", "2024-07-14T23:30") == [101]  # 00:00 BST start
    assert value_at(batch, "10545307", "2024-07-16T23:00") == [248]  # line 2 (LF), 23:30 BST
    assert len(batch.readings) == 96 and not batch.problems


def test_rows_that_do_not_have_the_shape_are_not_guessed(tmp_path: Path) -> None:
    short = tmp_path / "short.csv"
    short.write_text("10545307,K0229111D6,15/07/24," + ",".join(["1"] * 47) + "\n")
    words = tmp_path / "words.csv"
    words.write_text("10545307,K0229111D6,15/07/24," + ",".join(["x"] * 48) + "\n")
    for path in (short, words):
        assert UkHalfHourlyConnector().sniff(path.read_bytes(), path.name) == 0.0
        with pytest.raises(SourceError, match="no known layout"):
            list(UkHalfHourlyConnector().read(Source.from_path(path), {}))


@pytest.mark.parametrize("name", ["highlands-utf16-mangled-bom.csv", "highlands-utf16-bom.csv"])
def test_utf16_with_or_without_a_real_byte_order_mark_is_read(name: str) -> None:
    batch = read(DATA / name)
    assert batch.info["layout"] == "row-per-reading"
    assert value_at(batch, "1700000000001", "2024-07-14T23:30") == [1.5]
    assert value_at(batch, "1700000000001", "2024-07-15T01:00") == [4.5]
    assert len(batch.readings) == 4 and not batch.problems


def test_day_month_year_with_spaces_and_12_hour_labels() -> None:
    batch = read(DATA / "solar-for-schools.csv")
    assert batch.info["layout"] == "solar-for-schools"
    assert value_at(batch, "2000000000022", "2024-06-30T23:30") == [101]  # 12:00 AM BST
    assert value_at(batch, "2000000000022", "2024-07-01T11:30") == [125]  # 12:00 PM BST start
    assert value_at(batch, "2000000000022", "2024-07-01T23:00") == [148]  # 11:30 PM BST start
    assert len(batch.readings) == 48 and not batch.problems


def test_chellow_csv_is_utc_starts_and_channel_types() -> None:
    batch = read(DATA / "chellow-simple.csv")
    assert batch.info["layout"] == "chellow-simple" and batch.info["tz"] == "UTC"
    assert value_at(batch, "2000000000033", "2024-07-15T00:30") == [1.0]  # starts 00:00 UTC
    assert value_at(batch, "2000000000033", "2024-07-15T01:30") == [3.0]
    assert value_at(batch, "2000000000033", "2024-07-15T00:30", "kVArh") == [9.5]
    reactive = batch.readings[batch.readings["quantity"] == "kVArh"]
    assert reactive["estimated"].tolist() == [True]


def test_df2_details_are_read_as_utc_half_hour_ends() -> None:
    batch = read(DATA / "stark-details.df2")
    assert batch.info["tz"] == "UTC"
    # `#O 2000000000044,,,`: the commas are not part of the id; the autumn change day
    # has each of 01:00 and 01:30 once in UTC
    day = [value_at(batch, "2000000000044", f"2024-10-27T{t}") for t in START[1:6]]
    assert day == [[1], [2], [3], [4], [5]]
    # `#O 2000000000055-outstation7`, `#S2`, `15/07/24`, `12:30:00`, padded fields
    assert value_at(batch, "2000000000055-2", "2024-07-15T12:30") == [7.25]
    assert len(batch.readings) == 6 and not batch.problems


def test_df2_in_local_time_keeps_the_repeated_hour_named_or_sent() -> None:
    source = Source.from_path(DATA / "stark-details.df2")
    local = concat_batches(list(StarkDf2Connector().read(source, {"tz": "Europe/London"})))
    held = [p for p in local.problems if p.kind == ProblemKind.HELD_BACK]
    assert [(p.day.isoformat() if p.day else None, p.count) for p in held] == [("2024-10-27", 2)]
    assert len(local.readings) + 2 == 6  # nothing lost without a word
    options = {"tz": "Europe/London", "accept_ambiguous_days": True}
    accepted = concat_batches(list(StarkDf2Connector().read(source, options)))
    assert len(accepted.readings) == 6 and not accepted.problems
    assert value_at(accepted, "2000000000044", "2024-10-27T00:30") == [3]  # first 01:30 BST


def test_lines_once_dropped_silently_are_named() -> None:
    batch = read(DATA / "banes-dropouts.csv")
    bad = sorted((p.line, p.message) for p in batch.problems if p.kind == ProblemKind.BAD_VALUE)
    assert [line for line, _ in bad] == [3, 4, 7]
    assert "cut off" in bad[0][1]  # "id2","Jul 16 2024": the row stops after its date
    assert "no date" in bad[1][1]  # values but a blank date
    assert "never closed" in bad[2][1]  # a quote left open
    warnings = {p.line: p for p in batch.problems if p.kind == ProblemKind.WARNING}
    assert set(warnings) == {5, 6}
    gap = warnings[5]
    assert (gap.source_id, gap.day and gap.day.isoformat(), gap.count) == (
        "2200000000066",
        "2024-07-17",
        2,
    )
    assert "2.2E+12" in warnings[6].message and "lost digits" in warnings[6].message
    assert len(batch.readings) == 48 + 46 + 48
    assert value_at(batch, "2.2E+12", "2024-07-17T23:30") == [501]


def test_a_file_of_blank_values_is_named_and_a_header_alone_is_a_warning(tmp_path: Path) -> None:
    blank = read(DATA / "imserv-all-blank.csv")
    assert blank.readings.empty
    assert named(blank) == [("bad_value", None), ("warning", 2)]
    header = tmp_path / "header.csv"
    header.write_text((DATA / "imserv-all-blank.csv").read_text().splitlines()[0] + "\n")
    alone = read(header)
    assert alone.readings.empty and named(alone) == [("warning", None)]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40), "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(40), "a JPEG image"),
        (b"\x1f\x8b\x08\x00" + bytes(40), "gzip"),
    ],
)
def test_files_that_are_not_data_are_refused_saying_what_they_are(
    tmp_path: Path, data: bytes, words: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    with pytest.raises(SourceError, match=words):
        read(path)


@pytest.mark.parametrize("cell", ["inf", "-inf", "nan", "1e400", "Infinity"])
def test_non_finite_cells_are_named_bad_values(tmp_path: Path, cell: str) -> None:
    head = "Site Id,Meter Number,Reading Date," + ",".join(START)
    cells = [str(s + 1) for s in range(48)]
    cells[5] = cell  # label 02:30
    path = tmp_path / "odd.csv"
    path.write_text(head + "\n" + "10545307,K1,15/01/24," + ",".join(cells) + "\n")
    batch = read(path)
    bad = [(p.line, p.column, p.value) for p in batch.problems if p.kind == ProblemKind.BAD_VALUE]
    assert bad == [(2, "02:30", cell)]
    assert len(batch.readings) == 47 and np.isfinite(batch.readings["value"]).all()
    long = tmp_path / "long.csv"
    long.write_text(f"MPR,ReadDatetime,kWh,ReadType\n1,15/01/2024 00:30,{cell},Actual\n")
    batch = read(long)
    assert next((p.line, p.value) for p in batch.problems if p.kind == "bad_value") == (2, cell)
    assert batch.readings.empty
    df2 = tmp_path / "odd.df2"
    df2.write_text(f"#F2\n#O 2000000000077\n#S 1\n15/01/2024,00:30,{cell},A\n")
    batch = read(df2)
    assert next((p.line, p.value) for p in batch.problems) == (4, cell)
    assert batch.readings.empty


def test_an_unknown_header_above_data_shaped_rows_is_not_skipped(tmp_path: Path) -> None:
    path = tmp_path / "unknown.csv"
    rows = (DATA / "imserv-no-header.csv").read_text()
    path.write_text("Meter,Serial,Day," + ",".join(f"X{n}" for n in range(1, 49)) + "\n" + rows)
    assert UkHalfHourlyConnector().sniff(path.read_bytes(), path.name) == 0.0
    with pytest.raises(SourceError, match="no known layout"):
        list(UkHalfHourlyConnector().read(Source.from_path(path), {}))


def test_an_id_excel_rounded_is_warned_in_a_file_of_one_reading_per_row(tmp_path: Path) -> None:
    path = tmp_path / "rounded.csv"
    path.write_text(
        "MPR,ReadDatetime,kWh,ReadType\n"
        "1.7E+12,15 Jan 2024 00:30:00,1.5,Actual\n"
        "1.7E+12,15 Jan 2024 01:00:00,2.5,Actual\n"
    )
    batch = read(path)
    warned = [(p.line, p.value) for p in batch.problems if p.kind == ProblemKind.WARNING]
    assert warned == [(2, "1.7E+12")]
    assert value_at(batch, "1.7E+12", "2024-01-15T00:30") == [1.5]
