"""Row-per-reading files on clock-change days: naive local stamps placed by file order.

Both ways exports write an end stamp are covered: the wall-clock instant the
half-hour ends ("instant": on the autumn day Europe/London writes 01:00, 01:30,
01:00, 01:30) and the start's wall-clock time plus 30 minutes ("label": 01:30,
02:00, 01:30, 02:00). Files hold two meters interleaved, so order is per meter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from connectors.base import ProblemKind, ReadingBatch, Source, concat_batches
from connectors.tabular.engine import UkHalfHourlyConnector

CHANGES = [
    ("Europe/London", "2024-10-27"),
    ("Europe/London", "2025-10-26"),
    ("America/New_York", "2024-11-03"),
    ("America/New_York", "2025-11-02"),
    ("Europe/London", "2024-03-31"),
    ("Europe/London", "2025-03-30"),
    ("America/New_York", "2024-03-10"),
    ("America/New_York", "2025-03-09"),
]
HEADERS = {
    "composed": ("MPR,ReadDatetime,kWh,ReadType", ",Actual"),
    "generic": ("meter,timestamp,kwh", ""),
}


def ends(tz: str, day: str, count: int = 12) -> pd.DatetimeIndex:
    """UTC ends of the first `count` half-hours of a local day."""
    midnight = pd.Timestamp(day).tz_localize(tz).tz_convert("UTC")
    return pd.DatetimeIndex([midnight + pd.Timedelta(minutes=30 * (i + 1)) for i in range(count)])


def stamps(utc_ends: pd.DatetimeIndex, tz: str, style: str) -> list[str]:
    """Naive local stamps of those half-hours, written the way `style` names."""
    if style == "instant":
        local = utc_ends.tz_convert(tz).tz_localize(None)
    else:
        local = (utc_ends - pd.Timedelta(minutes=30)).tz_convert(tz).tz_localize(None)
        local = local + pd.Timedelta(minutes=30)
    return [f"{t:%Y-%m-%d %H:%M}" for t in local]


def write(tmp_path: Path, header: str, flag: str, texts: list[str]) -> Path:
    lines = [header]
    for i, text in enumerate(texts):
        lines += [f"1001,{text},{i + 1}{flag}", f"2002,{text},{100 + i + 1}{flag}"]
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def read(path: Path, **options: Any) -> ReadingBatch:
    return concat_batches(list(UkHalfHourlyConnector().read(Source.from_path(path), options)))


def values(batch: ReadingBatch, source: str) -> pd.Series:
    part = batch.readings[batch.readings["source_id"] == source]
    return pd.Series(part["value"].to_numpy(), index=pd.DatetimeIndex(part["time"]))


@pytest.mark.parametrize("header", sorted(HEADERS))
@pytest.mark.parametrize("style", ["instant", "label"])
@pytest.mark.parametrize(("tz", "day"), CHANGES)
def test_each_half_hour_lands_at_its_own_utc_instant(
    tmp_path: Path, tz: str, day: str, style: str, header: str
) -> None:
    utc_ends = ends(tz, day)
    path = write(tmp_path, *HEADERS[header], stamps(utc_ends, tz, style))
    batch = read(path, tz=tz)
    assert not batch.problems
    for source, base in (("1001", 0), ("2002", 100)):
        got = values(batch, source)
        assert list(got.index) == list(utc_ends)  # distinct, contiguous, in order
        assert list(got.to_numpy()) == [base + i + 1 for i in range(len(utc_ends))]


def test_london_autumn_instant_stamps_by_hand(tmp_path: Path) -> None:
    texts = ["00:30", "01:00", "01:30", "01:00", "01:30", "02:00"]
    path = write(tmp_path, *HEADERS["composed"], [f"2025-10-26 {t}" for t in texts])
    got = values(read(path), "1001")
    assert got[pd.Timestamp("2025-10-26T00:30Z")] == 3  # first 01:30 (BST)
    assert got[pd.Timestamp("2025-10-26T01:30Z")] == 5  # second 01:30 (GMT)
    assert got.index.is_unique and len(got) == 6


@pytest.mark.parametrize(("tz", "day"), CHANGES[:4])
def test_a_repeat_whose_order_cannot_tell_is_held_back_and_named(
    tmp_path: Path, tz: str, day: str
) -> None:
    utc_ends = ends(tz, day, 8)
    texts = stamps(utc_ends, tz, "instant")
    texts = texts[:3] + texts[5:]  # the first occurrences only: no drop back in time
    batch = read(write(tmp_path, *HEADERS["composed"], texts), tz=tz)
    held = [p for p in batch.problems if p.kind == ProblemKind.HELD_BACK]
    assert [str(p.day) for p in held] == [day]
    assert "cannot tell" in held[0].message and day in held[0].message
    got = values(batch, "1001")
    assert got.index.is_unique
    assert got[utc_ends[0]] == 1 and got[utc_ends[-1]] == len(texts)


def test_accept_ambiguous_days_places_a_lone_repeat_at_its_first_occurrence(
    tmp_path: Path,
) -> None:
    texts = ["00:30", "01:00", "01:30", "02:00", "02:30"]
    path = write(tmp_path, *HEADERS["composed"], [f"2024-10-27 {t}" for t in texts])
    batch = read(path, accept_ambiguous_days=True)
    assert not [p for p in batch.problems if p.kind == ProblemKind.HELD_BACK]
    got = values(batch, "1001")
    assert got[pd.Timestamp("2024-10-27T00:30Z")] == 3  # 01:30 BST, the first one


@pytest.mark.parametrize("style", ["instant", "label"])
@pytest.mark.parametrize(("tz", "day"), CHANGES[:4])
def test_a_repeat_split_by_a_block_edge_is_judged_whole(
    tmp_path: Path, tz: str, day: str, style: str
) -> None:
    utc_ends = ends(tz, day)
    path = write(tmp_path, *HEADERS["composed"], stamps(utc_ends, tz, style))
    for block in (64, 100, 150, 230):  # blocks of one to a few rows: every split happens
        batch = read(path, tz=tz, block_size=block)
        assert not batch.problems, block
        for source, base in (("1001", 0), ("2002", 100)):
            got = values(batch, source)
            assert list(got.index) == list(utc_ends), block
            assert list(got.to_numpy()) == [base + i + 1 for i in range(len(utc_ends))]
