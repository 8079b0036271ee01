"""Naive local times to UTC, placing clock-change days by the order of the file.

On an autumn (fall-back) day one wall-clock hour happens twice. Like pandas'
`tz_localize(ambiguous="infer")`, the rows of that hour are placed by their
order: per source, each contiguous run of ambiguous rows must go up, drop back
exactly once (the repeat) and go up again; rows before the drop are the first
(summer time) occurrence, rows from the drop on the second. Unlike pandas, a
run whose order cannot tell (no drop: only one of the two 01:30s present; more
than one drop: out of order) is not an error for the whole file: its rows are
marked held back and named, never guessed. Spring-forward times that do not
exist are marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Placement:
    """Where naive local times land in UTC.

    Attributes:
        utc: UTC instants in input order; NaT where held back or nonexistent.
        held: rows on a clock-change day whose order cannot tell which hour they are.
        nonexistent: rows whose wall time was skipped by a spring-forward change.
        ambiguous: rows whose wall time happened twice (placed or held).
    """

    utc: pd.Series
    held: np.ndarray
    nonexistent: np.ndarray
    ambiguous: np.ndarray


def _localize(wall: pd.DatetimeIndex, tz: str, dst: bool) -> pd.DatetimeIndex:
    flags = np.full(len(wall), dst, dtype=bool)
    return wall.tz_localize(tz, ambiguous=flags, nonexistent="NaT").tz_convert("UTC")


def _runs(keys: np.ndarray, amb: np.ndarray, wall_ns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Run ids and drop flags of ambiguous rows, for rows sorted by source then order."""
    n = len(keys)
    same_source = np.zeros(n, dtype=bool)
    same_source[1:] = keys[1:] == keys[:-1]
    prev_amb = np.zeros(n, dtype=bool)
    prev_amb[1:] = amb[:-1]
    continues = amb & prev_amb & same_source
    run_id = np.cumsum(amb & ~continues)
    drop = np.zeros(n, dtype=bool)
    drop[1:] = continues[1:] & (wall_ns[1:] <= wall_ns[:-1])
    return run_id, drop


def place_local_times(keys: pd.Series, wall: pd.Series, tz: str) -> Placement:
    """Localise naive wall times in `tz` per source key, in the order given.

    Args:
        keys: the source id of each row (rows of one source keep their file order).
        wall: naive wall-clock times, no NaT.
        tz: IANA zone name.

    Returns:
        The placement; rows held back or nonexistent have NaT in `utc`.
    """
    index = pd.DatetimeIndex(wall)
    early = _localize(index, tz, dst=True)
    late = _localize(index, tz, dst=False)
    nonexistent = np.asarray(early.isna())
    amb = np.asarray(early != late) & ~nonexistent
    standard = np.zeros(len(index), dtype=bool)
    held = np.zeros(len(index), dtype=bool)
    if amb.any():
        standard, held = _infer(keys, index, amb)
    first = pd.Series(early, index=wall.index)
    utc = first.where(~standard, pd.Series(late, index=wall.index))
    utc = utc.where(~(held | nonexistent))
    return Placement(utc=utc, held=held, nonexistent=nonexistent, ambiguous=amb)


def _infer(
    keys: pd.Series, index: pd.DatetimeIndex, amb: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which ambiguous rows are the second (standard time) hour, and which are undecidable."""
    codes, _ = pd.factorize(keys.to_numpy(), use_na_sentinel=False)
    order = np.lexsort((np.arange(len(codes)), codes))
    wall_ns = index.as_unit("ns").asi8[order]
    amb_s = amb[order]
    run_id, drop = _runs(codes[order], amb_s, wall_ns)
    runs = pd.DataFrame({"run": run_id[amb_s], "drop": drop[amb_s]})
    drops_per_run = runs.groupby("run")["drop"].transform("sum").to_numpy()
    after_drop = runs.groupby("run")["drop"].cumsum().to_numpy() > 0
    backwards = _newest_first(codes[order], amb_s, wall_ns, run_id)
    decided = (drops_per_run == 1) & ~backwards
    standard_s = np.zeros(len(order), dtype=bool)
    held_s = np.zeros(len(order), dtype=bool)
    standard_s[amb_s] = after_drop & decided
    held_s[amb_s] = ~decided
    standard = np.empty_like(standard_s)
    held = np.empty_like(held_s)
    standard[order] = standard_s
    held[order] = held_s
    return standard, held


def _newest_first(
    codes: np.ndarray, amb: np.ndarray, wall_ns: np.ndarray, run_id: np.ndarray
) -> np.ndarray:
    """Per ambiguous row: does its run sit among times going backwards (newest first)?

    Order-based placement assumes time runs forwards; in a newest-first file it
    would swap the two hours, so such runs are held back instead. The rows just
    before and after a run (same source, within a few hours) tell the direction.
    """
    n = len(codes)
    positions = np.flatnonzero(amb)
    runs = pd.Series(positions).groupby(run_id[amb])
    first, last = runs.min().to_numpy(), runs.max().to_numpy()
    before, after = np.maximum(first - 1, 0), np.minimum(last + 1, n - 1)
    near = 3 * 3600 * 10**9
    has_before = (first > 0) & (codes[before] == codes[first])
    has_before &= np.abs(wall_ns[before] - wall_ns[first]) < near
    has_after = (last < n - 1) & (codes[after] == codes[first])
    has_after &= np.abs(wall_ns[after] - wall_ns[last]) < near
    backwards = (has_before & (wall_ns[before] > wall_ns[first])) | (
        has_after & (wall_ns[after] < wall_ns[last])
    )
    per_run = pd.Series(backwards, index=runs.min().index)
    return np.asarray(per_run.reindex(run_id[amb]).to_numpy(), dtype=bool)


def open_tail(keys: pd.Series, ambiguous: np.ndarray) -> np.ndarray:
    """Rows in an ambiguous run still open at the end (the next chunk may continue it).

    A run is open when it holds its source's last row. Such rows are carried
    into the next chunk so that a run split across chunks is judged whole.
    """
    if not ambiguous.any():
        return np.zeros(len(ambiguous), dtype=bool)
    codes, _ = pd.factorize(keys.to_numpy(), use_na_sentinel=False)
    order = np.lexsort((np.arange(len(codes)), codes))
    codes_s = codes[order]
    amb_s = ambiguous[order]
    run_id, _ = _runs(codes_s, amb_s, np.zeros(len(order), dtype="int64"))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = codes_s[:-1] != codes_s[1:]
    open_runs = np.unique(run_id[last & amb_s])
    tail_s = amb_s & np.isin(run_id, open_runs)
    tail = np.empty_like(tail_s)
    tail[order] = tail_s
    return tail
