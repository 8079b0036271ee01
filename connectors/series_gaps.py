"""Missing readings in row-per-reading series, each channel's interval inferred from its readings.

A file with one reading per row (generic readings CSV, Readings-API JSON,
device logs, Stark ``.df2``) says nothing of the readings it lacks. For each
channel (source id and quantity) the interval is the commonest step between
its consecutive readings, in UTC (so a 23- or 25-hour local day is no gap);
a channel whose commonest step is seen fewer than `MIN_STEPS` times, or ties
with another step, has no interval we can tell and is not checked. A step of
at least two intervals is a gap of ``step // interval - 1`` missing readings,
the first at the reading before it plus one interval. Vectorised: a year of
half-hours for a thousand channels (17.5 million readings) is checked in
seconds. The UK half-hourly reader warns of its blank periods itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from connectors.base import Problem, ProblemKind

MIN_STEPS = 3  # the commonest step seen at least this often (4 readings) gives the interval
MAX_LISTED = 20  # gaps named one by one per file; the rest are summed up in one line
NS = 1_000_000_000
OWN_GAP_WARNINGS = frozenset({"uk-hh"})  # readers that name their blank periods themselves

IntArray = np.ndarray[Any, np.dtype[np.int64]]
Codes = np.ndarray[Any, np.dtype[np.signedinteger[Any]]]  # channel codes (int32 when kept)


@dataclass(frozen=True)
class SeriesGaps:
    """The gaps found, one entry per gap, ordered by channel then time.

    Attributes:
        channels: (source id, quantity) of each channel code.
        channel: the channel code of each gap.
        first_missing_ns: the UTC time (ns since the epoch) of the first missing reading.
        missing: how many readings (intervals) are missing.
        interval_s: the channel's interval, in seconds.
        after_row: the row (of the readings given, in the order given) that follows the gap.
    """

    channels: list[tuple[str, str]]
    channel: IntArray
    first_missing_ns: IntArray
    missing: IntArray
    interval_s: IntArray
    after_row: IntArray

    def __len__(self) -> int:
        return len(self.channel)

    def lines(self, limit: int = MAX_LISTED) -> list[tuple[int, str, str]]:
        """The first `limit` gaps as (index, source id, message) for a warning each."""
        shown = []
        for i in range(min(limit, len(self))):
            source_id, quantity = self.channels[int(self.channel[i])]
            first = pd.Timestamp(int(self.first_missing_ns[i]), tz="UTC")
            shown.append((i, source_id, _gap_message(source_id, quantity, first, self, i)))
        return shown

    def summary(self, limit: int = MAX_LISTED) -> str | None:
        """One line for the gaps past `limit` (None when every gap is listed)."""
        rest = len(self) - limit
        if rest <= 0:
            return None
        readings = int(self.missing[limit:].sum())
        channels = len(np.unique(self.channel[limit:]))
        return (
            f"… and {rest:,} more gap(s) in {channels:,} channel(s), {readings:,} reading(s) "
            f"missing in all (the first {limit} gaps are listed)"
        )


def _gap_message(
    source_id: str, quantity: str, first: pd.Timestamp, gaps: SeriesGaps, i: int
) -> str:
    count, interval = int(gaps.missing[i]), int(gaps.interval_s[i])
    stamp = first.strftime("%Y-%m-%d %H:%M:%S").removesuffix(":00") + " UTC"
    return (
        f"{source_id} ({quantity}): {count} reading(s) missing from {stamp} "
        f"(one every {_duration(interval)})"
    )


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86_400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def find_gaps(channel: Codes, times_ns: IntArray, channels: list[tuple[str, str]]) -> SeriesGaps:
    """The gaps of each channel's series (any row order; duplicates are no gap).

    Args:
        channel: the channel code of each reading (an index into `channels`).
        times_ns: each reading's UTC time, ns since the epoch.
        channels: (source id, quantity) of each code.
    """
    order = _channel_time_order(channel, times_ns, len(channels))
    codes, times = (channel, times_ns) if order is None else (channel[order], times_ns[order])
    runs = _step_runs(codes, times)
    interval = _intervals(runs, len(channels))
    run_interval = interval[runs.channel]
    with np.errstate(divide="ignore", invalid="ignore"):
        missing = np.where(run_interval > 0, runs.step // np.maximum(run_interval, 1) - 1, 0)
    gap_runs = np.flatnonzero(runs.valid & (missing >= 1))
    lengths = runs.length[gap_runs]  # consecutive steps of one size: one gap each
    first = np.repeat(runs.start[gap_runs], lengths)
    position = first + np.arange(len(first)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    per_gap = np.repeat(gap_runs, lengths)
    rows = position + 1 if order is None else order[position + 1]
    return SeriesGaps(
        channels,
        runs.channel[per_gap].astype("int64"),
        (times[position] + run_interval[per_gap]).astype("int64"),
        missing[per_gap].astype("int64"),
        (run_interval[per_gap] // NS).astype("int64"),
        np.asarray(rows, dtype="int64"),
    )


@dataclass(frozen=True)
class _StepRuns:
    """Runs of equal steps between consecutive readings of one channel (sorted input).

    A regular series is one run however long it is, so counting steps and finding
    gaps works on runs: a handful a channel, not one entry a reading.
    """

    start: IntArray  # index of the run's first step (step i: reading i to i + 1)
    length: IntArray
    step: IntArray
    channel: Codes
    valid: np.ndarray[Any, np.dtype[np.bool_]]  # within one channel, time moving on


def _step_runs(codes: Codes, times: IntArray) -> _StepRuns:
    step = np.diff(times)
    crossing = codes[1:] != codes[:-1]  # the step from one channel's last reading to the next's
    change = np.ones(len(step), dtype=bool)
    change[1:] = (step[1:] != step[:-1]) | crossing[1:] | crossing[:-1]
    start = np.flatnonzero(change)
    length = np.diff(np.append(start, len(step)))
    valid = ~crossing[start] & (step[start] > 0)
    return _StepRuns(start, length, step[start], codes[1:][start], valid)


def _channel_time_order(channel: Codes, times: IntArray, count: int) -> IntArray | None:
    """The row order by channel then time; None when the rows are in that order already.

    Files are mostly written meter by meter in time order: checking that costs one
    pass, sorting 17.5 million rows about a second (eight when shuffled).
    """
    if len(channel) < 2:
        return None
    same = channel[1:] == channel[:-1]
    runs = int(np.count_nonzero(~same)) + 1
    present = int(np.count_nonzero(np.bincount(channel, minlength=count)))
    if runs == present and bool(np.all(~same | (times[1:] >= times[:-1]))):
        return None
    return np.lexsort((times, channel))


def _intervals(runs: _StepRuns, count: int) -> IntArray:
    """Each channel's interval in ns: its commonest step when clear, else 0."""
    interval = np.zeros(count, dtype="int64")
    if not runs.valid.any():
        return interval
    seen = pd.DataFrame(
        {"channel": runs.channel[runs.valid], "step": runs.step[runs.valid],
         "n": runs.length[runs.valid]}
    ).groupby(["channel", "step"], sort=False)["n"].sum()  # fmt: skip
    table = seen.reset_index().sort_values(["channel", "n"], ascending=[True, False])
    top = table.drop_duplicates("channel", keep="first")
    runner = table[table.duplicated("channel", keep="first")].drop_duplicates("channel")
    second = pd.Series(runner["n"].to_numpy(), index=runner["channel"].to_numpy())
    rival = second.reindex(top["channel"].to_numpy()).fillna(0).to_numpy()
    clear = (top["n"].to_numpy() >= MIN_STEPS) & (top["n"].to_numpy() > rival)
    interval[top["channel"].to_numpy()[clear]] = top["step"].to_numpy()[clear]
    return interval


@dataclass
class GapTracker:
    """Collects the channel and time of every reading of one file, batch by batch.

    Holds 12 bytes a reading (a channel code and a time); `gaps` then checks them all
    at once, so a channel's series may span batches and arrive in any order.
    """

    _codes: dict[tuple[str, str], int] = field(default_factory=dict)
    _channel: list[np.ndarray[Any, np.dtype[np.int32]]] = field(default_factory=list)
    _times: list[IntArray] = field(default_factory=list)

    def add(self, readings: pd.DataFrame) -> None:
        """Remember the channel and time of each reading of a batch (normalised schema)."""
        if not len(readings):
            return
        ids, id_names = pd.factorize(readings["source_id"], use_na_sentinel=False)
        qty, qty_names = pd.factorize(readings["quantity"], use_na_sentinel=False)
        pair, pairs = pd.factorize(ids.astype("int64") * len(qty_names) + qty)
        lookup = np.array(
            [self._code(str(id_names[p // len(qty_names)]), str(qty_names[p % len(qty_names)]))
             for p in pairs.tolist()],
            dtype="int32",
        )  # fmt: skip
        self._channel.append(lookup[pair])
        self._times.append(_utc_ns(readings["time"]))

    def _code(self, source_id: str, quantity: str) -> int:
        return self._codes.setdefault((source_id, quantity), len(self._codes))

    def gaps(self) -> SeriesGaps:
        """The gaps of every channel seen so far."""
        channels = list(self._codes)
        if not self._times:
            return find_gaps(np.zeros(0, "int32"), np.zeros(0, "int64"), channels)
        # One array at a time, the batches' pieces dropped at once: memory peaks lower.
        self._channel = [np.concatenate(self._channel)]
        self._times = [np.concatenate(self._times)]
        return find_gaps(self._channel[0], self._times[0], channels)


def gap_tracker_for(connector_id: str) -> GapTracker | None:
    """A tracker for a file read by `connector_id`, or None when that reader warns itself."""
    return None if connector_id in OWN_GAP_WARNINGS else GapTracker()


def _utc_ns(times: pd.Series) -> IntArray:
    """UTC nanoseconds since the epoch of a timezone-aware (or UTC) time column."""
    stamps = pd.DatetimeIndex(times)
    if stamps.tz is not None:
        stamps = stamps.tz_convert("UTC").tz_localize(None)
    return np.asarray(stamps.as_unit("ns").asi8, dtype="int64")


def gap_problems(gaps: SeriesGaps, file: str | None) -> list[Problem]:
    """One WARNING a gap (the first `MAX_LISTED`), then one summing up the rest."""
    problems = [
        Problem(
            ProblemKind.WARNING,
            message,
            file=file,
            source_id=source_id,
            count=int(gaps.missing[i]),
        )
        for i, source_id, message in gaps.lines()
    ]
    summary = gaps.summary()
    if summary is not None:
        rest = int(gaps.missing[MAX_LISTED:].sum())
        problems.append(Problem(ProblemKind.WARNING, summary, file=file, count=rest))
    return problems
