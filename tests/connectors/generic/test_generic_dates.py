"""Day/month order that only the time zone can tell (generic connector)."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.base import ProblemKind
from tests.connectors.generic.test_generic import LONDON, NY, read_text, utc

# 2 November 2025: New York falls back, 01:00-01:59 happens twice (EDT, then EST).
US_FALL_BACK = "meter,time,kwh\n" + "".join(
    f"NY1,11/02/2025 {t},{v}\n"
    for t, v in [("00:30", 1), ("01:00", 2), ("01:30", 3), ("01:00", 4), ("01:30", 5)]
)


def warnings_of(batch) -> list[str]:
    return [p.describe() for p in batch.problems if p.kind is ProblemKind.WARNING]


def test_an_american_zone_reads_ambiguous_dates_month_first_and_says_so() -> None:
    batch = read_text(US_FALL_BACK, tz=NY)
    assert list(batch.readings["time"]) == utc(
        "2025-11-02 04:30", "2025-11-02 05:00", "2025-11-02 05:30",
        "2025-11-02 06:00", "2025-11-02 06:30",
    )  # fmt: skip
    assert list(batch.readings["value"]) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [p.kind for p in batch.problems] == [ProblemKind.WARNING]
    (said,) = warnings_of(batch)
    assert said.startswith("inline.csv, column time:")
    assert "month-first ('%m/%d/%Y %H:%M')" in said and "America/New_York" in said
    assert "--time-format '%d/%m/%Y %H:%M'" in said
    assert batch.info["time_format"] == "%m/%d/%Y %H:%M"


def test_a_european_zone_reads_them_day_first_across_its_own_clock_change() -> None:
    # 11/02/2025 is 11 February in London; 26/10/2025 (fall back) only reads day-first.
    text = "id,time,value\nL,11/02/2025 01:30,7\nL,11/02/2025 02:00,8\n"
    batch = read_text(text, tz=LONDON)
    assert list(batch.readings["time"]) == utc("2025-02-11 01:30", "2025-02-11 02:00")
    (said,) = warnings_of(batch)
    assert "day-first ('%d/%m/%Y %H:%M')" in said and "Europe/London" in said
    assert "--time-format '%m/%d/%Y %H:%M'" in said
    fall_back = "id,time,value\n" + "".join(
        f"L,26/10/2025 {t},{v}\n" for t, v in [("01:00", 1), ("01:30", 2), ("01:00", 3)]
    )
    batch = read_text(fall_back, tz=LONDON)
    assert warnings_of(batch) == []  # only one order fits: no warning, as before
    assert list(batch.readings["time"]) == utc(
        "2025-10-26 00:00", "2025-10-26 00:30", "2025-10-26 01:00"
    )


def test_dates_that_fit_one_order_are_read_as_before_in_any_zone() -> None:
    text = "id,time,value\nU,11/13/2025 10:00,1\n"  # 13 cannot be a month
    batch = read_text(text, tz=LONDON)
    assert list(batch.readings["time"]) == [pd.Timestamp("2025-11-13 10:00", tz="UTC")]
    assert warnings_of(batch) == []


@pytest.mark.parametrize("zone", ["US/Eastern", "Pacific/Honolulu", "America/Chicago"])
def test_month_first_zones(zone: str) -> None:
    batch = read_text("id,time,value\nZ,03/04/2025 12:00,1\n", tz=zone)
    assert batch.readings["time"].iloc[0].month == 3


def test_an_explicit_time_format_wins_without_a_warning() -> None:
    batch = read_text(US_FALL_BACK, tz=NY, time_format="%d/%m/%Y %H:%M")
    assert warnings_of(batch) == []
    assert batch.readings["time"].iloc[0] == pd.Timestamp("2025-02-11 05:30", tz="UTC")
