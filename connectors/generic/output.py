"""Parsed generic rows to schema readings: interval length, time label, origin."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from connectors.base import (
    Problem,
    ProblemKind,
    SourceError,
    conform,
    empty_readings,
)
from connectors.generic.cells import QUANTITY_SPELLING
from connectors.generic.layout import Columns


@dataclass
class OutputRules:
    """How parsed rows become readings; `intervals` fills in as sources are met."""

    file: str
    quantity: str
    interval_s: int | None
    label: str
    value_column: int
    intervals: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], file: str, columns: Columns) -> OutputRules:
        """Read `quantity`, `interval_s` and `source_label` from the options.

        Raises:
            SourceError: for an interval that is not a positive whole number or
                an unknown label.
        """
        label = str(options.get("source_label") or "end")
        if label not in ("end", "start"):
            raise SourceError(f"source_label must be 'end' or 'start', not {label!r}", file=file)
        return cls(
            file=file,
            quantity=_spelled(str(options.get("quantity") or "kWh")),
            interval_s=_interval(options.get("interval_s"), file),
            label=label,
            value_column=columns.number("value"),
        )


def _spelled(quantity: str) -> str:
    return QUANTITY_SPELLING.get(quantity.strip().lower(), quantity.strip())


def _interval(given: Any, file: str) -> int | None:
    if given in (None, "", 0, "0"):
        return None
    try:
        seconds = int(given)
    except (TypeError, ValueError):
        seconds = -1
    if seconds <= 0:
        raise SourceError(
            f"interval must be a positive number of seconds, not {given!r}", file=file
        )
    return seconds


@dataclass
class Output:
    """Readings of a chunk and the rows held back on the way."""

    readings: pd.DataFrame
    problems: list[Problem]


def infer_intervals(rows: pd.DataFrame) -> dict[str, int]:
    """Each source's most common spacing of distinct times, in seconds (ties: the shortest).

    The most common spacing, unlike the median, is not thrown by gaps (rows
    held back or bad). Sources with one time, or whose spacing does not divide
    a day evenly, are left out (interval unknown).
    """
    times = rows[["source_id", "utc"]].drop_duplicates().sort_values(["source_id", "utc"])
    gaps = times.groupby("source_id")["utc"].diff().dt.total_seconds()
    spacing = pd.DataFrame({"source_id": times["source_id"], "gap": gaps}).dropna()
    counts = spacing.value_counts().reset_index(name="n")
    counts = counts.sort_values(["n", "gap"], ascending=[False, True])
    best = counts.drop_duplicates("source_id")
    return {
        str(sid): int(gap)
        for sid, gap in zip(best["source_id"], best["gap"], strict=True)
        if gap > 0 and 86400 % int(gap) == 0
    }


def to_readings(rows: pd.DataFrame, rules: OutputRules) -> Output:
    """Build the readings frame of a chunk (rows in PARSED_COLUMNS, utc filled)."""
    if not len(rows):
        return Output(empty_readings(), [])
    learn_intervals(rows, rules)
    codes, uniques = pd.factorize(rows["source_id"])
    per_source = np.array([rules.intervals.get(str(u), 0) for u in uniques], dtype="int64")
    intervals = pd.Series(per_source[codes], index=rows.index)
    problems: list[Problem] = []
    times = rows["utc"]
    if rules.label == "start":
        unknown = (intervals <= 0).to_numpy()
        problems = _unknown_interval_problems(rows[unknown], rules)
        rows, intervals, times = rows[~unknown], intervals[~unknown], times[~unknown]
        times = times + pd.to_timedelta(intervals, unit="s")
    frame = pd.DataFrame(
        {
            "source_id": rows["source_id"],
            "quantity": rows["quantity"],
            "unit": rows["quantity"],
            "time": times,
            "interval_s": intervals,
            "value": rows["value"],
            "estimated": rows["estimated"],
            "note": rows["note"],
            "origin": f"{rules.file}:" + rows["line"].astype(str) + f":{rules.value_column}",
        }
    )
    return Output(conform(frame), problems)


def learn_intervals(rows: pd.DataFrame, rules: OutputRules) -> None:
    """Fix the interval of sources met for the first time (option, else median spacing)."""
    new = ~rows["source_id"].isin(list(rules.intervals))
    if not new.any():
        return
    if rules.interval_s is not None:
        for sid in rows.loc[new, "source_id"].unique():
            rules.intervals[str(sid)] = rules.interval_s
        return
    rules.intervals.update(infer_intervals(rows[new]))


def _unknown_interval_problems(rows: pd.DataFrame, rules: OutputRules) -> list[Problem]:
    found = []
    for sid, group in rows.groupby("source_id", sort=False):
        found.append(
            Problem(
                ProblemKind.HELD_BACK,
                f"source {sid!r}: its times mark interval starts, but the interval length is "
                "unknown (a single time); give --interval",
                rules.file,
                int(np.min(group["line"])),
                source_id=str(sid),
                count=len(group),
            )
        )
    return found
