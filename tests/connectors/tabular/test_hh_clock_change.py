"""Clock-change days in UK half-hourly files: 2024 and 2025, both directions, plus a US zone.

Spring: 31 Mar 2024 / 30 Mar 2025 have 46 half-hours in Europe/London (01:00-02:00
local does not exist). Autumn: 27 Oct 2024 / 26 Oct 2025 have 50 (01:00-02:00
happens twice). Files are composed here, a day before and after the change day
around it, so every test also proves the neighbouring days are sent.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from connectors.base import ProblemKind, ReadingBatch, Source, concat_batches
from connectors.tabular.engine import UkHalfHourlyConnector

END = [f"{(m // 60) % 24:02d}:{m % 60:02d}" for m in range(30, 1441, 30)]
START = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 1440, 30)]
SPRING = {2024: date(2024, 3, 31), 2025: date(2025, 3, 30)}
AUTUMN = {2024: date(2024, 10, 27), 2025: date(2025, 10, 26)}


def wide(tmp_path: Path, labels: list[str], rows: list[tuple[date, list[str]]]) -> Path:
    """An Energy-Assets style file: MPAN, Date, the labels, one row per day."""
    lines = ["MPAN,Date," + ",".join(labels)]
    lines += [f"1234567890123,{day:%d/%m/%Y}," + ",".join(cells) for day, cells in rows]
    path = tmp_path / "hh.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def full(count: int = 48, base: int = 0) -> list[str]:
    return [str(base + s + 1) for s in range(count)]


def read(path: Path, **options: Any) -> ReadingBatch:
    return concat_batches(list(UkHalfHourlyConnector().read(Source.from_path(path), options)))


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def series(batch: ReadingBatch, day: date, tz: str = "Europe/London") -> pd.Series:
    """Values of one local day (by interval start), indexed by UTC end time."""
    frame = batch.readings
    starts = (frame["time"] - pd.Timedelta(minutes=30)).dt.tz_convert(tz).dt.date
    part = frame[starts == day]
    return pd.Series(part["value"].to_numpy(), index=pd.DatetimeIndex(part["time"]))


@pytest.mark.parametrize("year", [2024, 2025])
def test_autumn_day_in_48_column_local_file_is_held_back(tmp_path: Path, year: int) -> None:
    day = AUTUMN[year]
    before, after = day.replace(day=day.day - 1), day.replace(day=day.day + 1)
    path = wide(tmp_path, END, [(before, full()), (day, full(base=100)), (after, full(base=200))])
    batch = read(path)
    held = [p for p in batch.problems if p.kind == ProblemKind.HELD_BACK]
    assert [p.day for p in held] == [day]
    assert day.isoformat() in held[0].message and "50 half-hours" in held[0].message
    assert len(series(batch, day)) == 0  # nothing of that day
    assert len(series(batch, before)) == 48 and len(series(batch, after)) == 48
    assert len(batch.readings) == 96


@pytest.mark.parametrize("year", [2024, 2025])
def test_autumn_day_accepted_maps_labels_to_first_occurrence(tmp_path: Path, year: int) -> None:
    day = AUTUMN[year]
    batch = read(wide(tmp_path, END, [(day, full())]), accept_ambiguous_days=True)
    assert not [p for p in batch.problems if p.kind == ProblemKind.HELD_BACK]
    got = series(batch, day)
    assert len(got) == 48
    iso = day.isoformat()
    prev = (pd.Timestamp(day) - pd.Timedelta(days=1)).date().isoformat()
    assert got[utc(f"{prev}T23:30")] == 1  # label 00:30 BST
    assert got[utc(f"{iso}T00:30")] == 3  # label 01:30: first occurrence (BST)
    assert got[utc(f"{iso}T01:00")] == 4  # label 02:00: first occurrence (BST)
    assert utc(f"{iso}T01:30") not in got.index  # the repeated hour (GMT) gets nothing
    assert got[utc(f"{iso}T02:30")] == 5  # label 02:30 GMT
    assert got[utc(f"{iso}T23:59:59") + pd.Timedelta(seconds=1)] == 48


@pytest.mark.parametrize("year", [2024, 2025])
def test_spring_day_with_46_values_and_empty_missing_labels_is_placed(
    tmp_path: Path, year: int
) -> None:
    day = SPRING[year]
    cells = full()
    cells[2], cells[3] = "", ""  # end labels 01:30 and 02:00 do not exist on this day
    batch = read(wide(tmp_path, END, [(day, cells)]))
    assert not batch.problems or all(p.kind == ProblemKind.WARNING for p in batch.problems)
    got = series(batch, day)
    iso = day.isoformat()
    assert len(got) == 46
    assert got[utc(f"{iso}T00:30")] == 1  # 00:30 GMT
    assert got[utc(f"{iso}T01:00")] == 2  # 01:00 GMT
    assert got[utc(f"{iso}T01:30")] == 5  # label 02:30 BST
    assert got[utc(f"{iso}T23:00")] == 48  # label 00:00 BST


@pytest.mark.parametrize("year", [2024, 2025])
def test_spring_day_with_48_values_is_held_back_unless_accepted(tmp_path: Path, year: int) -> None:
    day = SPRING[year]
    path = wide(tmp_path, START, [(day, full())])  # start labels, 01:00 and 01:30 filled
    batch = read(path)
    held = [p for p in batch.problems if p.kind == ProblemKind.HELD_BACK]
    assert [p.day for p in held] == [day] and "46 half-hours" in held[0].message
    assert len(batch.readings) == 0
    accepted = read(path, accept_ambiguous_days="true")
    got = series(accepted, day)
    assert len(got) == 46  # the two nonexistent labels are dropped, with a warning
    assert got[utc(f"{day.isoformat()}T01:30")] == 5  # label 02:00 BST
    warnings = [p for p in accepted.problems if p.kind == ProblemKind.WARNING]
    assert warnings and warnings[0].count == 2


@pytest.mark.parametrize("year", [2024, 2025])
def test_fifty_columns_fill_both_change_days_by_settlement_period(
    tmp_path: Path, year: int
) -> None:
    labels = [f"HH{n}" for n in range(1, 51)]
    spring, autumn = SPRING[year], AUTUMN[year]
    rows = [(spring, full(46) + ["-"] * 4), (autumn, full(50))]
    batch = read(wide(tmp_path, labels, rows))
    assert not batch.problems
    long_day = series(batch, autumn)
    assert len(long_day) == 50 and len(series(batch, spring)) == 46
    assert list(long_day.index.diff().dropna().unique()) == [pd.Timedelta(minutes=30)]
    assert long_day.iloc[-1] == 50


def test_fifty_columns_with_values_beyond_the_short_day_are_held_back(tmp_path: Path) -> None:
    labels = [f"HH{n}" for n in range(1, 51)]
    batch = read(wide(tmp_path, labels, [(SPRING[2024], [*full(48), "", ""])]))
    held = [p for p in batch.problems if p.kind == ProblemKind.HELD_BACK]
    assert [p.day for p in held] == [SPRING[2024]] and "periods beyond 46" in held[0].message


def test_utc_file_has_48_half_hours_on_change_days(tmp_path: Path) -> None:
    path = wide(tmp_path, START, [(AUTUMN[2024], full()), (SPRING[2025], full())])
    batch = read(path, tz="UTC")
    assert not batch.problems and len(batch.readings) == 96
    assert batch.readings["time"].iloc[0] == utc("2024-10-27T00:30")


def test_us_zone_clock_changes(tmp_path: Path) -> None:
    fall, spring = date(2024, 11, 3), date(2024, 3, 10)
    cells = full()
    cells[4], cells[5] = "", ""  # start labels 02:00 and 02:30 do not exist on 10 Mar
    path = wide(tmp_path, START, [(spring, cells), (fall, full())])
    batch = read(path, tz="America/New_York")
    held = [p for p in batch.problems if p.kind == ProblemKind.HELD_BACK]
    assert [p.day for p in held] == [fall]
    got = series(batch, spring, "America/New_York")
    assert len(got) == 46
    assert got[utc("2024-03-10T07:30")] == 7  # 03:00 EDT start, ends 03:30 EDT


@pytest.mark.parametrize("year", [2024, 2025])
def test_row_per_reading_autumn_repeat_by_order(tmp_path: Path, year: int) -> None:
    day = AUTUMN[year]
    stamps = ["00:30", "01:00", "01:30", "02:00", "01:30", "02:00", "02:30"]
    lines = ["MPR,ReadDatetime,kWh,ReadType"]
    lines += [f"99,{day:%d/%m/%Y} {t},{i + 1},Actual" for i, t in enumerate(stamps)]
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    batch = read(path)
    iso = day.isoformat()
    got = pd.Series(batch.readings["value"].to_numpy(), index=batch.readings["time"])
    assert got[utc(f"{iso}T00:30")] == 3  # first 01:30 (BST)
    assert got[utc(f"{iso}T01:30")] == 5  # second 01:30 (GMT)
    assert got[utc(f"{iso}T02:00")] == 6
    assert len(got) == 7


def test_zero_padding_after_the_last_period_is_not_a_reading(tmp_path: Path) -> None:
    labels = [f"HH{n}" for n in range(1, 51)]
    rows = [(date(2025, 1, 15), [*full(48), "0", "0.000"]), (SPRING[2025], full(46) + ["0"] * 4)]
    batch = read(wide(tmp_path, labels, rows))
    assert not batch.problems
    assert len(batch.readings) == 48 + 46


def test_values_in_periods_49_50_of_a_normal_day_are_held_back(tmp_path: Path) -> None:
    labels = [f"HH{n}" for n in range(1, 51)]
    batch = read(wide(tmp_path, labels, [(date(2025, 1, 15), full(50))]))
    [held] = [p for p in batch.problems if p.kind == ProblemKind.HELD_BACK]
    assert "has 48 half-hours but the file has values for periods beyond 48" in held.message
    assert "2025-01-15" in held.message and len(batch.readings) == 0
