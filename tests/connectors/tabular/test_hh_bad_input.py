"""Bad input to the UK half-hourly engine: whole-file refusals and named bad cells."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.core.connector_catalog import build_registry
from connectors.base import ProblemKind, ReadingBatch, Source, SourceError, concat_batches
from connectors.tabular.df2 import StarkDf2Connector
from connectors.tabular.engine import UkHalfHourlyConnector

END = [f"{(m // 60) % 24:02d}:{m % 60:02d}" for m in range(30, 1441, 30)]
HEADER = "MPAN,Meter,Date," + ",".join(END)


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def read(path: Path, **options: Any) -> ReadingBatch:
    return concat_batches(list(UkHalfHourlyConnector().read(Source.from_path(path), options)))


def row(day: str, cells: list[str], mpan: str = "1234567890123") -> str:
    return f"{mpan},M1,{day}," + ",".join(cells)


def cells(base: int = 0) -> list[str]:
    return [str(base + s + 1) for s in range(48)]


PORTAL_PAGE = """<!DOCTYPE html>
<html><head><title>Session expired - Energy Portal</title></head>
<body><p>Please log in again.</p></body></html>
"""


def test_html_page_saved_as_csv_is_refused_whole(tmp_path: Path) -> None:
    path = write(tmp_path, PORTAL_PAGE, "export.csv")
    with pytest.raises(SourceError) as error:
        read(path)
    assert "HTML web page" in str(error.value) and "Session expired" in str(error.value)
    assert str(path) in str(error.value)
    best = build_registry().best(Source.from_path(path))  # auto: uk-hh refuses it plainly
    assert best is not None and best.connector.info.id == "uk-hh" and best.score < 0.05


@pytest.mark.parametrize(
    ("content", "looks"),
    [
        (b"PK\x03\x04binary", "Excel workbook"),
        (b"%PDF-1.4\n", "PDF"),
        (b'{"readings": []}', "JSON"),
        (b"", "empty"),
        (b"just some words\nand more words\n", "no known layout"),
    ],
)
def test_other_non_csv_files_are_refused(tmp_path: Path, content: bytes, looks: str) -> None:
    with pytest.raises(SourceError, match=looks):
        read(write(tmp_path, content))


def test_corrupt_cell_is_named_and_only_that_reading_is_lost(tmp_path: Path) -> None:
    bad = cells()
    bad[9] = "12..5"  # label 05:00
    text = "\n".join([HEADER, row("15/01/2024", cells()), "", row("16/01/2024", bad)]) + "\n"
    path = write(tmp_path, text)
    batch = read(path)
    problems = [p for p in batch.problems if p.kind == ProblemKind.BAD_VALUE]
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.line, problem.column, problem.value) == (
        str(path),
        4,
        "05:00",
        "12..5",
    )
    assert "12..5" in problem.describe() and ":4" in problem.describe()
    assert len(batch.readings) == 95
    assert pd.Timestamp("2024-01-16T05:00", tz="UTC") not in set(batch.readings["time"])


def test_bad_date_and_short_row_are_named(tmp_path: Path) -> None:
    short = "1234567890123,M1,17/01/2024,1,2,3"
    lines = [HEADER, row("15/01/2024", cells()), row("32/13/2024", cells()), short]
    lines.append(row("18/01/2024", cells()))
    batch = read(write(tmp_path, "\n".join(lines) + "\n"))
    by_line = {p.line: p for p in batch.problems}
    assert by_line[3].column == "Date" and by_line[3].value == "32/13/2024"
    assert "6 fields" in by_line[4].message
    assert len(batch.readings) == 96  # 15 and 18 January


def test_noise_bom_sep_blank_lines_quotes_two_digit_years(tmp_path: Path) -> None:
    quoted = '"1234567890123","M 1","15/01/24",' + ",".join(f'"{c}"' for c in cells())
    text = "sep=,\r\n\r\n" + HEADER + "\r\n\r\n" + quoted + "\r\n\r\n"
    batch = read(write(tmp_path, b"\xef\xbb\xbf" + text.encode()))
    assert not batch.problems
    assert batch.readings["time"].iloc[0] == pd.Timestamp("2024-01-15T00:30", tz="UTC")
    assert batch.readings["origin"].iloc[0].endswith(":5:00:30")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15-Jan-24", "2024-01-15T00:30"),
        ("Jan 15 2024 12:00AM", "2024-01-15T00:30"),
        ("2024-01-15", "2024-01-15T00:30"),
        ("2024/01/15", "2024-01-15T00:30"),
        ("15-01-2024", "2024-01-15T00:30"),
        ("15/01/2024 00:00:00", "2024-01-15T00:30"),
    ],
)
def test_date_formats(tmp_path: Path, text: str, expected: str) -> None:
    batch = read(write(tmp_path, HEADER + "\n" + row(text, cells()) + "\n"))
    assert batch.readings["time"].iloc[0] == pd.Timestamp(expected, tz="UTC")


def test_semicolon_delimited_file(tmp_path: Path) -> None:
    text = HEADER.replace(",", ";") + "\n" + row("15/01/2024", cells()).replace(",", ";") + "\n"
    assert len(read(write(tmp_path, text)).readings) == 48


def test_streaming_in_small_blocks_keeps_lines_and_held_days(tmp_path: Path) -> None:
    lines = [HEADER] + [row(f"{d:02d}/10/2024", cells(d * 100)) for d in range(1, 32)]
    lines.insert(10, "a footer-like line")
    path = write(tmp_path, "\n".join(lines) + "\n")
    batches = list(UkHalfHourlyConnector().read(Source.from_path(path), {"block_size": 1024}))
    assert len(batches) > 3  # really streamed
    batch = concat_batches(batches)
    assert [p.day.isoformat() for p in batch.problems if p.day] == ["2024-10-27"]
    assert len(batch.readings) == 30 * 48
    last = batch.readings[batch.readings["time"] == pd.Timestamp("2024-11-01T00:00", tz="UTC")]
    assert last["origin"].iloc[0].endswith(":33:00:00")  # 31 Oct is on physical line 33


def test_df2_with_bad_lines(tmp_path: Path) -> None:
    text = "#F2\n15/01/2024,00:30,1,A\n#O 555\n15/01/2024,01:00,x,A\n15/01/2024,01:30,3,E\n"
    source = Source.from_path(write(tmp_path, text, "a.df2"))
    batch = concat_batches(list(StarkDf2Connector().read(source, {})))
    assert [(p.line, p.kind) for p in batch.problems] == [
        (2, ProblemKind.BAD_VALUE),
        (4, ProblemKind.BAD_VALUE),
    ]
    assert batch.readings["time"].tolist() == [pd.Timestamp("2024-01-15T01:30", tz="UTC")]
    with pytest.raises(SourceError, match="HTML"):
        list(StarkDf2Connector().read(Source.from_bytes(PORTAL_PAGE.encode(), "x.df2"), {}))


def test_row_without_meter_id_is_named(tmp_path: Path) -> None:
    text = HEADER + "\n" + row("15/01/2024", cells(), mpan="") + "\n"
    batch = read(write(tmp_path, text))
    assert [(p.line, p.column) for p in batch.problems] == [(2, "MPAN")]
    assert len(batch.readings) == 0


def test_bad_cell_in_a_late_block_rereads_without_duplicates(tmp_path: Path) -> None:
    lines = [HEADER] + [row(f"{d:02d}/01/2024", cells(d * 100)) for d in range(1, 32)]
    bad = cells(3100)
    bad[47] = "n/a?"
    lines[31] = row("31/01/2024", bad)  # physical line 32, the last block
    path = write(tmp_path, "\n".join(lines) + "\n")
    batches = list(UkHalfHourlyConnector().read(Source.from_path(path), {"block_size": 1024}))
    batch = concat_batches(batches)
    assert [(p.line, p.column, p.value) for p in batch.problems] == [(32, "00:00", "n/a?")]
    assert len(batch.readings) == 31 * 48 - 1
    assert not batch.readings.duplicated(["source_id", "time"]).any()


def test_rows_with_a_trailing_delimiter_the_header_lacks(tmp_path: Path) -> None:
    text = HEADER + "\n" + row("15/01/2024", cells()) + ",\n" + row("16/01/2024", cells()) + ",\n"
    batch = read(write(tmp_path, text))
    assert not batch.problems and len(batch.readings) == 96


def test_stray_nul_bytes_are_noise_and_utf16_is_read(tmp_path: Path) -> None:
    text = HEADER + "\n" + row("15/01/2024", cells()) + "\n" + "\x00" * 20 + "\n"
    batch = read(write(tmp_path, text))
    assert len(batch.readings) == 48 and not batch.problems
    plain = HEADER + "\r\n" + row("15/01/2024", cells()) + "\r\n"
    mangled_bom = b"\xef\xbf\xbd\xef\xbf\xbd"  # FF FE as a tool that read it as UTF-8 wrote it
    for name, data in (
        ("bom.csv", plain.encode("utf-16")),
        ("le.csv", plain.encode("utf-16-le")),
        ("be.csv", plain.encode("utf-16-be")),
        ("mangled.csv", mangled_bom + plain.encode("utf-16-le")),
    ):
        batch = read(write(tmp_path, data, name))
        assert len(batch.readings) == 48 and not batch.problems, name
        assert batch.readings["origin"].iloc[0] == f"{name}:2:00:30"
        assert batch.readings["value"].sum() == sum(float(c) for c in cells())
