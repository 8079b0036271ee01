"""Dates and half-hours of UK half-hourly files: parsing dates, and clock-change days.

A local day in Europe/London has 48 half-hours, 46 on the last Sunday of March
(01:00-02:00 does not exist) and 50 on the last Sunday of October (01:00-02:00
happens twice). `DayTable` holds, for each distinct date of a file, the UTC
instant of local midnight, the number of half-hours, and where each wall-clock
half-hour slot lands (its elapsed half-hour since midnight), all as numpy arrays
so whole chunks are placed without a Python loop per reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

HALF_HOUR_NS = 1_800_000_000_000
DAY_NS = 86_400_000_000_000

DATE_FORMATS: tuple[str, ...] = (
    "%d/%m/%y",
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d-%m-%y",
    "%d-%m-%Y",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d %m %Y",
    "%b %d %Y %I:%M%p",
    "%b %d %Y",
    "%Y%m%d",
    "%d.%m.%Y",
)
TIME_SUFFIXES: tuple[str, ...] = ("", " %H:%M:%S", " %H:%M", "T%H:%M:%S")
DATETIME_FORMATS: tuple[str, ...] = (
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
)


def guess_format(samples: Any, formats: tuple[str, ...]) -> str | None:
    """The format of `formats` that parses most non-empty samples (the first of equals)."""
    texts = [str(s).strip() for s in samples if s is not None and str(s).strip()]
    if not texts:
        return None
    series = pd.Series(texts[:200], dtype="object")
    best, count = None, 0
    for fmt in formats:
        parsed = pd.to_datetime(series, format=fmt, errors="coerce")
        good = int((parsed.notna() & parsed.dt.year.between(1980, 2100)).sum())
        if good == len(series):
            return fmt
        if good > count:
            best, count = fmt, good
    return best


def date_formats() -> tuple[str, ...]:
    """Date formats tried for a date column, each also with a midnight time part."""
    return tuple(
        f + suffix for f in DATE_FORMATS for suffix in TIME_SUFFIXES if not suffix or "%I" not in f
    )


def parse_dates(uniques: Any, fmt: str) -> np.ndarray[Any, Any]:
    """Unique date strings to datetime64[D] (NaT where a string does not parse)."""
    series = pd.Series(np.asarray(uniques, dtype=object)).astype("object").str.strip()
    parsed = pd.to_datetime(series, format=fmt, errors="coerce")
    return parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")  # type: ignore[no-any-return]


@dataclass
class DayTable:
    """Per distinct local date: midnight in UTC, day length, and slot placement.

    Attributes:
        midnight_ns: UTC instant of local midnight (int64 ns), one per date.
        periods: number of half-hours in the local day (46, 48 or 50 in London).
        elapsed: [dates, 48] elapsed half-hour index of each wall-clock slot,
            first occurrence for repeated times; -1 where the wall time does not exist.
        ambiguous: [dates, 48] True where the wall-clock slot happens twice.
    """

    midnight_ns: np.ndarray[Any, np.dtype[np.int64]]
    periods: np.ndarray[Any, np.dtype[np.int64]]
    elapsed: np.ndarray[Any, np.dtype[np.int64]]
    ambiguous: np.ndarray[Any, np.dtype[np.bool_]]


def _localize(naive_ns: np.ndarray[Any, Any], tz: str, ambiguous: Any) -> np.ndarray[Any, Any]:
    index = pd.DatetimeIndex(naive_ns.astype("datetime64[ns]"))
    local = index.tz_localize(tz, ambiguous=ambiguous, nonexistent="NaT")
    return local.tz_convert("UTC").tz_localize(None).to_numpy().astype("int64")  # type: ignore[no-any-return]


def _midnights(days: np.ndarray[Any, Any], tz: str) -> np.ndarray[Any, Any]:
    index = pd.DatetimeIndex(days.astype("datetime64[ns]"))
    local = index.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    return local.tz_convert("UTC").tz_localize(None).to_numpy().astype("int64")  # type: ignore[no-any-return]


def day_table(days: np.ndarray[Any, Any], tz: str) -> DayTable:
    """Build the DayTable of the distinct dates `days` (datetime64[D]) in zone `tz`."""
    days = np.asarray(days, dtype="datetime64[D]")
    midnight = _midnights(days, tz)
    following = _midnights(days + np.timedelta64(1, "D"), tz)
    periods = (following - midnight) // HALF_HOUR_NS
    walls = days.astype("datetime64[ns]").astype("int64")[:, None] + (
        np.arange(48, dtype="int64")[None, :] * HALF_HOUR_NS
    )
    flat = walls.ravel()
    first = _localize(flat, tz, np.ones(len(flat), dtype=bool)).reshape(walls.shape)
    last = _localize(flat, tz, np.zeros(len(flat), dtype=bool)).reshape(walls.shape)
    nat = np.iinfo("int64").min
    elapsed = np.where(first == nat, -1, (first - midnight[:, None]) // HALF_HOUR_NS)
    ambiguous = (first != last) & (first != nat)
    return DayTable(midnight, periods.astype("int64"), elapsed.astype("int64"), ambiguous)
