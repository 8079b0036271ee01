"""Column-at-a-time parsing of generic CSV cells: numbers, times, flags.

Each parser returns the parsed column plus a boolean mask of bad cells; the
caller turns the (few) bad cells into named problems. No per-row Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import SourceError

ESTIMATED_WORDS: dict[str, bool] = {
    "true": True, "t": True, "1": True, "yes": True, "y": True, "e": True, "est": True,
    "estimated": True, "estimate": True,
    "false": False, "f": False, "0": False, "no": False, "n": False, "a": False,
    "actual": False, "act": False, "": False,
}  # fmt: skip

# Times with an explicit offset (ISO style); these are kept as given and converted to UTC.
OFFSET_PATTERN = r"\d{1,2}:?\d{2}(?::?\d{2}(?:[.,]\d+)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"

# Formats tried, in order, when no --time-format is given and the times are not ISO 8601.
CANDIDATE_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M:%S %p", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y %H.%M", "%Y%m%d%H%M%S", "%Y%m%d %H:%M", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y",
)  # fmt: skip
# Canonical spelling of the quantity vocabulary, by lower-case spelling.
QUANTITY_SPELLING: dict[str, str] = {
    q.lower(): q for q in ("kWh", "kW", "kVArh", "kVAr", "kVAh", "kVA", "Wh", "W", "MWh", "MW")
}


ISO = "ISO8601"
_H24 = r"[ T]24:00(?::00)?$"


def parse_values(text: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """Numbers with `decimal` as the decimal mark and no thousands separators.

    Returns:
        (values as float64 with NaN where bad, mask of bad cells).
    """
    cells = text.str.strip()
    other = "." if decimal == "," else ","
    wrong_mark = cells.str.contains(other, regex=False).to_numpy(dtype=bool)
    if decimal == ",":
        cells = cells.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(cells.where(~wrong_mark, ""), errors="coerce")
    values = np.asarray(numbers, dtype="float64")
    bad = wrong_mark | ~np.isfinite(values)
    return np.where(bad, np.nan, values), bad


def value_problem(cell: str, decimal: str) -> str:
    """Why a value cell is not a number."""
    if not cell.strip():
        return "the value is empty"
    other = "." if decimal == "," else ","
    if other in cell:
        return (
            f"not a number: the decimal mark is {decimal!r} and thousands separators "
            "are not allowed (see --decimal)"
        )
    return "not a (finite) number"


def parse_estimated(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Estimated flags (true/false, 1/0, yes/no, E/A, Estimated/Actual; empty = actual)."""
    mapped = text.str.strip().str.lower().map(ESTIMATED_WORDS)
    bad = np.asarray(mapped.isna(), dtype=bool)
    flags = np.zeros(len(mapped), dtype=bool)
    flags[~bad] = np.asarray(mapped[~bad], dtype=bool)
    return flags, bad


def has_offset(text: pd.Series) -> np.ndarray:
    """Which time cells carry an explicit UTC offset (or Z)."""
    cells = pa.array(text.str.strip(), type=pa.string())
    found = pc.match_substring_regex(cells, OFFSET_PATTERN)
    return np.asarray(found.fill_null(False), dtype=bool)


def parse_aware(text: pd.Series, fmt: str) -> pd.Series:
    """Times with offsets, converted to UTC (NaT where unparseable)."""
    return pd.to_datetime(text.str.strip(), format=fmt, utc=True, errors="coerce")


def parse_naive(text: pd.Series, fmt: str) -> pd.Series:
    """Naive wall-clock times (NaT where unparseable or carrying an offset).

    `24:00` (end of day, common in interval-end files) is read as 00:00 of the next day.
    """
    cells = text.str.strip()
    late = np.asarray(pc.match_substring_regex(pa.array(cells, type=pa.string()), _H24))
    if late.any():
        midnight = cells.str.replace(" 24:00", " 00:00", regex=False)
        cells = cells.where(~late, midnight.str.replace("T24:00", "T00:00", regex=False))
    try:
        parsed = pd.to_datetime(cells, format=fmt, errors="coerce")
    except ValueError:  # naive times beside ones with an offset `has_offset` does not know
        parsed = _naive_one_by_one(cells, fmt)
    if getattr(parsed.dt, "tz", None) is not None:  # a format with %z matched
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    if late.any():
        parsed = parsed + pd.to_timedelta(np.where(late, 1, 0), unit="D")
    return parsed


def _naive_one_by_one(cells: pd.Series, fmt: str) -> pd.Series:
    """`cells` read one at a time: NaT for a cell that is unreadable or carries an offset.

    Only for a column pandas refuses whole ("Mixed timezones detected": e.g. an
    offset written ``-04:0``, which ISO 8601 parsing takes but `OFFSET_PATTERN`
    does not), so the slower way is taken rarely.
    """
    read = []
    for cell in cells:
        stamp = pd.to_datetime(cell, format=fmt, errors="coerce")
        read.append(pd.NaT if pd.isna(stamp) or stamp.tzinfo is not None else stamp)
    return pd.Series(pd.to_datetime(read), index=cells.index, dtype="datetime64[us]")


def format_is_aware(fmt: str) -> bool:
    """Whether a strptime format reads the offset itself."""
    return "%z" in fmt or "%Z" in fmt


MONTH_FIRST_ZONES = ("America/", "US/")
MONTH_FIRST_NAMES = frozenset(
    {"Pacific/Honolulu", "EST", "EST5EDT", "CST6CDT", "MST", "MST7MDT", "PST8PDT", "HST"}
)


def month_first_zone(tz: str) -> bool:
    """Whether dates written in `tz` are taken month-first when a file cannot tell.

    Deliberately simple: America/*, US/*, Pacific/Honolulu (and the POSIX US
    zones) are month-first; every other zone is day-first.
    """
    return tz.startswith(MONTH_FIRST_ZONES) or tz in MONTH_FIRST_NAMES


@dataclass
class TimeFormatChoice:
    """The time format picked for a file; `other` the day/month order its zone ruled out.

    Attributes:
        format: the strptime format (or ISO) the file is read with.
        other: when both orders read the file and the zone decided, the other one.
    """

    format: str
    other: str | None = None

    @property
    def by_zone(self) -> bool:
        """The time zone decided between day-first and month-first."""
        return self.other is not None

    def warning(self, example: str, tz: str) -> str:
        """What to tell the user when the zone decided the order."""
        order = "month-first" if self.format.startswith("%m") else "day-first"
        return (
            f"the dates (e.g. {example!r}) read both day-first and month-first; taken as "
            f"{order} ({self.format!r}) because the time zone is {tz}; if they are not, give "
            f"--time-format {self.other!r}"
        )


def choose_time_format(sample: pd.Series, name: str, tz: str | None = None) -> str:
    """Pick the time format for a file from a sample of its time cells (see `pick_time_format`).

    Raises:
        SourceError: when no format reads most of the sample, or the order is ambiguous.
    """
    return pick_time_format(sample, name, tz).format


def pick_time_format(sample: pd.Series, name: str, tz: str | None = None) -> TimeFormatChoice:
    """Pick the time format for a file from a sample of its time cells.

    ISO 8601 wins when it reads the sample; otherwise the candidate format that
    reads the most. When day-first and month-first formats both read every
    sample cell, the time zone of the naive times decides (`month_first_zone`)
    and the choice says so (`by_zone`); without a zone the file must say
    (--time-format).

    Raises:
        SourceError: when no format reads most of the sample, or the order is
            ambiguous and no zone is given.
    """
    cells = sample[sample.str.strip() != ""].head(2000)
    if cells.empty or _score(cells, ISO) == len(cells):
        return TimeFormatChoice(ISO)
    scores = {fmt: _score(cells, fmt) for fmt in (ISO, *CANDIDATE_FORMATS)}
    best = max(scores.values())
    winners = [fmt for fmt, score in scores.items() if score == best]
    if best < len(cells) / 2:
        raise SourceError(
            f"the times (e.g. {cells.iloc[0]!r}) are in no format tried; give "
            "--time-format (strptime, e.g. '%d/%m/%Y %H:%M')",
            file=name,
        )
    if not _day_month_clash(winners):
        return TimeFormatChoice(winners[0])
    if tz is None:
        raise SourceError(
            f"the times (e.g. {cells.iloc[0]!r}) read both day-first and month-first; "
            "give --time-format ('%d/%m/%Y %H:%M' or '%m/%d/%Y %H:%M')",
            file=name,
        )
    first = "%m" if month_first_zone(tz) else "%d"
    chosen = next(f for f in winners if f.startswith(first))
    other = next(f for f in winners if f.startswith("%d" if first == "%m" else "%m"))
    return TimeFormatChoice(chosen, other)


def _score(cells: pd.Series, fmt: str) -> int:
    aware = has_offset(cells)
    parsed_aware = parse_aware(cells[aware], ISO) if fmt == ISO else pd.Series([], dtype=object)
    parsed = parse_naive(cells[~aware], fmt)
    return int(parsed.notna().sum() + parsed_aware.notna().sum())


def _day_month_clash(formats: Iterable[str]) -> bool:
    fmts = list(formats)
    return any(f.startswith("%d") for f in fmts) and any(f.startswith("%m") for f in fmts)
