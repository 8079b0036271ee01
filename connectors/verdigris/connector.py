"""Verdigris data v4 → readings: windows, request splitting, units, labels.

Assumptions (documented in docs/reference/pull.md):
    * source id of a channel: ``verdigris:<level>:<id>`` (``verdigris:circuit:123``);
    * ``energy`` in Wh → kWh (quantity ``kWh``); ``power`` in W → kW (``kW``);
    * a row's timestamp is its bucket's **start** unless the setting says
      ``end``; the reading time (schema: interval end) is start + interval;
    * a missing row or a null value is no reading (never a zero);
    * at most 1,500 points a request across ids: ids and time are split.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Protocol

import pandas as pd

from connectors.base import (
    Problem,
    ProblemKind,
    ReadingBatch,
    SourceError,
    make_readings,
)
from connectors.finite import finite_number, not_finite_problem
from connectors.verdigris.grid import Grid, Request

MAX_POINTS = 1500
KINDS: dict[str, tuple[str, float]] = {"energy": ("kWh", 1000.0), "power": ("kW", 1000.0)}
LEVELS = ("circuit", "breaker", "panel", "building")


class DataApi(Protocol):
    """What the reader needs of `connectors.verdigris.api.VerdigrisApi`."""

    def data(self, request: Request, interval: str) -> list[dict[str, Any]]:
        """Rows of one request at `interval`."""
        ...


def source_id(level: str, ident: str) -> str:
    """The reading source id of a Verdigris channel."""
    return f"verdigris:{level}:{ident}"


def plan(window: Request, grid: Grid, max_points: int = MAX_POINTS) -> list[Request]:
    """Split `window` into requests of at most `max_points`, newest window first.

    Its `start` and `end` must already be boundaries of `grid`.
    """
    ids, start, end = window.ids, window.start, window.end
    buckets = grid.count(start, end)
    if buckets <= 0 or not ids:
        return []
    # Budget (buckets + 1) x ids: safe even if a server counts the end bucket too.
    per_request = max(1, min(len(ids), max_points // (min(buckets, max_points - 1) + 1)))
    span = max_points // per_request - 1
    groups = [tuple(ids[i : i + per_request]) for i in range(0, len(ids), per_request)]
    out: list[Request] = []
    top = end
    while top > start:
        bottom = max(start, grid.add(top, -span))
        out.extend(Request(window.kind, window.level, g, bottom, top) for g in groups)
        top = bottom
    return out


def to_readings(
    rows: list[dict[str, Any]], request: Request, grid: Grid, label: str = "start"
) -> ReadingBatch:
    """Rows of one request as sorted readings (time = bucket end); bad rows named."""
    quantity, divisor = KINDS[request.kind]
    path = f"verdigris:/data/v4/{request.kind}/{request.level}s"
    good: list[tuple[str, pd.Timestamp, float]] = []
    problems: list[Problem] = []
    for row in rows:
        parsed = _parse_row(row, request)
        if isinstance(parsed, tuple):
            good.append(parsed)
        elif isinstance(parsed, Problem):
            problems.append(parsed)
        elif parsed:
            problems.append(
                Problem(ProblemKind.BAD_VALUE, parsed, file=path, value=repr(row)[:200])
            )
    if not good:
        return ReadingBatch.problems_only(problems, {"request": request})
    frame = pd.DataFrame(good, columns=["id", "stamp", "value"])
    frame["start"], frame["time"] = _bucket_bounds(frame["stamp"], grid, label)
    inside = (frame["time"] > request.start) & (frame["time"] <= request.end)
    frame = frame[inside].sort_values(["id", "time"]).drop_duplicates(["id", "time"], keep="last")
    if frame.empty:  # rows came back, but none ends inside this window (e.g. an edge bucket)
        return ReadingBatch.problems_only(problems, {"request": request})
    readings = make_readings(
        source_id=[source_id(request.level, i) for i in frame["id"]],
        time=frame["time"],
        value=frame["value"] / divisor,
        quantity=quantity,
        interval_s=(frame["time"] - frame["start"]).dt.total_seconds().astype("int64"),
        origin=path + "?ids=" + frame["id"] + "@" + frame["stamp"].map(pd.Timestamp.isoformat),
    )
    return ReadingBatch(readings, problems, info={"request": request})


def _bucket_bounds(stamps: pd.Series, grid: Grid, label: str) -> tuple[pd.Series, pd.Series]:
    """(bucket start, bucket end) of each row's timestamp."""
    if grid.zone is None:
        step = pd.Timedelta(seconds=grid.step_s)
        return (stamps, stamps + step) if label == "start" else (stamps - step, stamps)
    other = -1 if label == "end" else 1
    moved = stamps.map(lambda t: pd.Timestamp(grid.add(t.to_pydatetime(), other)))
    return (stamps, moved) if label == "start" else (moved, stamps)


def _parse_row(
    row: Any, request: Request
) -> tuple[str, pd.Timestamp, float] | Problem | str | None:
    """(id, bucket stamp, value); None for a gap (null value); a message for a bad row.

    A value that is not a finite number (NaN, ±inf, ``1e400``, ``true``) is the
    shared `not_finite_problem`, located by the request path, id and timestamp.
    """
    if not isinstance(row, dict) or str(row.get("id")) not in request.ids:
        return "Verdigris sent a row for an id that was not asked for"
    value = row.get(request.kind, row.get("value"))  # "value": a generic name, just in case
    if value is None:
        return None
    try:
        stamp = _stamp(row.get("timestamp"))
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError(f"not a number: {value!r}")
        if not isinstance(value, int):
            float(value)  # an int too large for a float is named as not finite below
    except (TypeError, ValueError, OverflowError):
        return "Verdigris sent a row whose time or value cannot be read"
    number = finite_number(value)
    if number is None:
        where = f"verdigris:/data/v4/{request.kind}/{request.level}s?ids={row['id']}"
        shown = value if isinstance(value, str) else repr(value)
        return not_finite_problem(shown[:100], f"{where}@{row.get('timestamp')}")
    return str(row["id"]), stamp, number


def _stamp(value: Any) -> pd.Timestamp:
    """An ISO-8601 string or epoch milliseconds as an aware UTC timestamp.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"no timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return pd.Timestamp(int(value), unit="ms", tz="UTC")
    stamp = pd.Timestamp(str(value))
    if pd.isna(stamp):
        raise ValueError(f"no timestamp: {value!r}")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def read_window(
    api: DataApi, window: Request, grid: Grid, label: str = "start"
) -> Iterator[ReadingBatch]:
    """Pull one channel set over `window` (aligned outward), newest window first.

    Each batch's ``info["request"]`` names the ids and window it covers, so the
    caller can move bookmarks as each one lands.
    """
    if window.kind not in KINDS:
        raise SourceError(f"unknown Verdigris data kind {window.kind!r}; use energy or power")
    if window.level not in LEVELS:
        levels = ", ".join(LEVELS)
        raise SourceError(f"unknown Verdigris level {window.level!r}; use one of {levels}")
    aligned = replace(window, start=grid.floor(window.start), end=grid.ceil(window.end))
    for request in plan(aligned, grid):
        yield fetch(api, request, grid, label)


def fetch(api: DataApi, request: Request, grid: Grid, label: str = "start") -> ReadingBatch:
    """One request's rows as readings (``info["request"]`` names what it covers)."""
    rows = api.data(request, grid.name)
    return to_readings(rows, request, grid, label)
