"""Naive local stamps of row-per-reading files to UTC, clock-change days by file order.

A stamp that labels the END of its half-hour is written one of two ways on a
clock-change day, and exports use both:

* as the wall-clock instant the half-hour ends (autumn, Europe/London:
  `00:30, 01:00, 01:30, 01:00, 01:30, 02:00` — the instant itself repeats);
* as the start's wall-clock time plus 30 minutes (`00:30, 01:00, 01:30, 02:00,
  01:30, 02:00, 02:30` — the label of the repeated half-hours repeats).

Both are placed with `connectors.clock.place_local_times` (order of the
file per source, like pandas' `tz_localize(ambiguous="infer")`): once
localising the stamp itself, once localising the start (stamp − 30 min). The
way that places every row of a source on distinct instants, with nothing held
back or nonexistent, wins for that source; when both fit equally the second
(label) reading is used. Rows whose order cannot tell are held back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from connectors.clock import Placement, open_tail, place_local_times
from connectors.tabular.dates import HALF_HOUR_NS

NAT = np.iinfo("int64").min


@dataclass
class LongPlacement:
    """UTC starts of half-hours (int64 ns, NaT where not placed) and why not."""

    start: np.ndarray[Any, Any]
    held: np.ndarray[Any, Any]
    nonexistent: np.ndarray[Any, Any]


def _as_ns(placement: Placement) -> np.ndarray[Any, Any]:
    utc = placement.utc
    values = pd.DatetimeIndex(utc).tz_convert("UTC").tz_localize(None).as_unit("ns")
    return np.asarray(values.asi8, dtype="int64")


def _issues(codes: np.ndarray[Any, Any], start: Any, bad: Any, sources: int) -> Any:
    """Per source: rows not placed plus rows placed on an instant already taken."""
    frame = pd.DataFrame({"code": codes, "start": start})
    clash = frame.duplicated(["code", "start"]).to_numpy() & ~bad
    return np.bincount(codes, weights=(bad | clash).astype("float64"), minlength=sources)


def _placed(keys: pd.Series, wall: np.ndarray[Any, Any], tz: str, shift: int) -> LongPlacement:
    series = pd.Series(wall.view("datetime64[ns]"), index=keys.index)
    placement = place_local_times(keys, series, tz)
    start = _as_ns(placement)
    start = np.where(start == NAT, NAT, start - shift)
    return LongPlacement(start, placement.held, placement.nonexistent)


def place_long(
    keys: pd.Series, start_wall: np.ndarray[Any, Any], tz: str, end_labelled: bool
) -> LongPlacement:
    """UTC starts of naive half-hour starts per source, by the order of the file.

    Args:
        keys: the source id of each row (file order).
        start_wall: naive wall-clock starts (int64 ns): the stamp minus 30 min for
            end-labelled files.
        tz: IANA zone of the stamps.
        end_labelled: whether the file's stamps are half-hour ends (then the stamp
            itself, start_wall + 30 min, is tried as an instant too).
    """
    by_label = _placed(keys, start_wall, tz, 0)
    touched = by_label.held | by_label.nonexistent
    if not end_labelled or not (touched.any() or _near_change(by_label, start_wall)):
        return by_label
    by_instant = _placed(keys, start_wall + HALF_HOUR_NS, tz, HALF_HOUR_NS)
    codes, uniques = pd.factorize(keys.to_numpy(), use_na_sentinel=False)
    n = len(uniques)
    worse_label = _issues(codes, by_label.start, by_label.held | by_label.nonexistent, n)
    worse_instant = _issues(codes, by_instant.start, by_instant.held | by_instant.nonexistent, n)
    instant = (worse_instant < worse_label)[codes]
    return LongPlacement(
        np.where(instant, by_instant.start, by_label.start),
        np.where(instant, by_instant.held, by_label.held),
        np.where(instant, by_instant.nonexistent, by_label.nonexistent),
    )


def _near_change(placement: LongPlacement, start_wall: np.ndarray[Any, Any]) -> bool:
    """Whether any row's placed offset differs from its neighbour's (a change in the chunk)."""
    offset = start_wall - placement.start
    valid = placement.start != NAT
    return bool(len(np.unique(offset[valid])) > 1)


def first_occurrence(wall: np.ndarray[Any, Any], tz: str) -> np.ndarray[Any, Any]:
    """UTC of naive wall times taking the first (summer-time) occurrence when repeated."""
    index = pd.DatetimeIndex(wall.view("datetime64[ns]"))
    flags = np.ones(len(index), dtype=bool)
    local = index.tz_localize(tz, ambiguous=flags, nonexistent="NaT").tz_convert("UTC")
    return np.asarray(local.tz_localize(None).as_unit("ns").asi8, dtype="int64")


def _repeated(wall: np.ndarray[Any, Any], tz: str) -> np.ndarray[Any, Any]:
    """Whether each naive wall time happens twice in `tz` (the fall-back hour)."""
    index = pd.DatetimeIndex(wall.view("datetime64[ns]"))
    ones = np.ones(len(index), dtype=bool)
    early = index.tz_localize(tz, ambiguous=ones, nonexistent="NaT")
    late = index.tz_localize(tz, ambiguous=~ones, nonexistent="NaT")
    twice: np.ndarray[Any, Any] = np.asarray(early != late, dtype=bool)
    twice &= ~np.asarray(early.isna(), dtype=bool)
    return twice


def open_rows(
    keys: pd.Series, start_wall: np.ndarray[Any, Any], tz: str, end_labelled: bool
) -> np.ndarray[Any, Any]:
    """Rows in a repeated-hour run still open at the end of a chunk (either reading of
    the stamps): carried into the next chunk so a run split by a block edge is judged whole."""
    repeated = _repeated(start_wall, tz)
    if end_labelled:
        repeated |= _repeated(start_wall + HALF_HOUR_NS, tz)
    return np.asarray(open_tail(keys, repeated), dtype=bool)
