"""Missing readings in row-per-reading series, each channel's interval inferred from its readings.

A file with one reading per row (generic readings CSV, Readings-API JSON,
device logs, Stark ``.df2``) says nothing of the readings it lacks. For each
channel (source id and quantity) the interval is the commonest step between
its consecutive readings, in UTC (so a 23- or 25-hour local day is no gap);
a channel whose commonest step is seen fewer than `MIN_STEPS` times, or ties
with another step, has no interval we can tell and is not checked. Nor is a
channel whose readings come at irregular times (more than `IRREGULAR_STEPS`
different steps, none of them making up half of its steps): that one is named
(`SeriesGaps.unchecked`), so no one takes its silence for "no gaps". A step of
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
# More different steps than this, none of them half of a channel's steps: no interval to infer.
IRREGULAR_STEPS = 100
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
        after_row: the row (of the readings given, in the order given) that follows the
            gap; -1 from `gaps_of_runs` (the batch tracker keeps no rows).
        unchecked: the codes of the channels not checked because their readings come at
            irregular times (no interval could be inferred), in code order.
    """

    channels: list[tuple[str, str]]
    channel: IntArray
    first_missing_ns: IntArray
    missing: IntArray
    interval_s: IntArray
    after_row: IntArray
    unchecked: IntArray = field(default_factory=lambda: np.zeros(0, dtype="int64"))

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

    def unchecked_lines(self, limit: int = MAX_LISTED) -> list[tuple[str, str]]:
        """(source id, message) of the first `limit` channels not checked, then one line
        counting the rest (its source id empty)."""
        shown = []
        for code in self.unchecked[:limit].tolist():
            source_id, quantity = self.channels[code]
            shown.append((source_id, f"{source_id} ({quantity}): {UNCHECKED}"))
        rest = len(self.unchecked) - limit
        if rest > 0:
            shown.append(("", f"… and {rest:,} more channel(s) not checked: {UNCHECKED}"))
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


UNCHECKED = (
    "not checked for missing readings: its readings come at irregular times (more than "
    f"{IRREGULAR_STEPS} different steps between them, none of them half of the steps), "
    "so its interval could not be inferred"
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
    valid = runs.valid
    interval, irregular = intervals_of(
        runs.channel[valid], runs.step[valid], runs.length[valid], len(channels)
    )
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
        np.flatnonzero(irregular).astype("int64"),
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


def intervals_of(
    channel: Codes, step: IntArray, length: IntArray, count: int
) -> tuple[IntArray, np.ndarray[Any, np.dtype[np.bool_]]]:
    """Each channel's interval in ns from its runs of equal (positive) steps, else 0;
    and which channels come at irregular times (`irregular_channels`).

    Args:
        channel: the channel code of each run.
        step: the run's step (ns, positive).
        length: how many steps the run holds.
        count: how many channel codes there are.
    """
    interval = np.zeros(count, dtype="int64")
    irregular = np.zeros(count, dtype=bool)
    if not len(channel):
        return interval, irregular
    table = _step_table(channel, step, length).sort_values(
        ["channel", "n"], ascending=[True, False]
    )
    top = table.drop_duplicates("channel", keep="first")
    runner = table[table.duplicated("channel", keep="first")].drop_duplicates("channel")
    second = pd.Series(runner["n"].to_numpy(), index=runner["channel"].to_numpy())
    rival = second.reindex(top["channel"].to_numpy()).fillna(0).to_numpy()
    irregular[_irregular_in(table)] = True
    codes = top["channel"].to_numpy()
    clear = (top["n"].to_numpy() >= MIN_STEPS) & (top["n"].to_numpy() > rival) & ~irregular[codes]
    interval[codes[clear]] = top["step"].to_numpy()[clear]
    return interval, irregular


def _step_table(channel: Codes, step: IntArray, length: IntArray) -> pd.DataFrame:
    """How many steps of each size each channel has: columns channel, step, n."""
    seen = pd.DataFrame(
        {"channel": channel, "step": step, "n": length}
    ).groupby(["channel", "step"], sort=False)["n"].sum()  # fmt: skip
    return seen.reset_index()


def _irregular_in(table: pd.DataFrame) -> Codes:
    """The channels of a step table with more than `IRREGULAR_STEPS` different steps, none
    of them half of the channel's steps."""
    per_channel = table.groupby("channel", sort=True)["n"].agg(["size", "sum", "max"])
    irregular = (per_channel["size"] > IRREGULAR_STEPS) & (
        2 * per_channel["max"] < per_channel["sum"]
    )
    return np.asarray(per_channel.index.to_numpy()[irregular.to_numpy()], dtype="int64")


def irregular_channels(channel: Codes, step: IntArray, length: IntArray) -> Codes:
    """The channels among these runs whose readings come at irregular times.

    More than `IRREGULAR_STEPS` different steps, none of them making up half of
    the channel's steps: no interval can be inferred. A regular series keeps its
    interval in most of its steps however many gaps of different lengths it has.

    Args:
        channel: the channel code of each run.
        step: the run's step (ns, positive).
        length: how many steps the run holds.
    """
    if not len(channel):
        return np.zeros(0, dtype="int64")
    return _irregular_in(_step_table(channel, step, length))


def gaps_of_runs(
    channel: Codes, first_ns: IntArray, step: IntArray, length: IntArray,
    channels: list[tuple[str, str]], unchecked: IntArray | None = None,
) -> SeriesGaps:  # fmt: skip
    """The gaps of series held as runs of equal positive steps (any order of runs).

    Args:
        channel: the channel code of each run.
        first_ns: the time of the reading the run's first step starts from (UTC ns).
        step: the run's step, ns (positive: a repeated time is no step).
        length: how many steps of that size follow one another.
        channels: (source id, quantity) of each code.
        unchecked: channels already found to come at irregular times (their runs dropped).
    """
    interval, irregular = intervals_of(channel, step, length, len(channels))
    if unchecked is not None:
        irregular[unchecked] = True
    run_interval = interval[channel]
    missing = np.where(run_interval > 0, step // np.maximum(run_interval, 1) - 1, 0)
    gap_runs = np.flatnonzero(missing >= 1)
    lengths = length[gap_runs]
    per_gap = np.repeat(gap_runs, lengths)
    nth = np.arange(len(per_gap)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    first_missing = first_ns[per_gap] + nth * step[per_gap] + run_interval[per_gap]
    codes = channel[per_gap].astype("int64")
    order = np.lexsort((first_missing, codes))
    return SeriesGaps(
        channels,
        codes[order],
        first_missing[order].astype("int64"),
        missing[per_gap][order].astype("int64"),
        (run_interval[per_gap][order] // NS).astype("int64"),
        np.full(len(order), -1, dtype="int64"),
        np.flatnonzero(irregular).astype("int64"),
    )


def channel_codes(readings: pd.DataFrame, codes: dict[tuple[str, str], int]) -> Codes:
    """The code of each reading's channel (source id, quantity), new ones added to `codes`.

    Codes are given in the order channels first appear.
    """
    ids, id_names = pd.factorize(readings["source_id"], use_na_sentinel=False)
    qty, qty_names = pd.factorize(readings["quantity"], use_na_sentinel=False)
    pair, pairs = pd.factorize(ids.astype("int64") * len(qty_names) + qty)
    lookup = np.array(
        [codes.setdefault((str(id_names[p // len(qty_names)]), str(qty_names[p % len(qty_names)])),
                          len(codes))
         for p in pairs.tolist()],
        dtype="int32",
    )  # fmt: skip
    return np.asarray(lookup[pair], dtype="int32")


def frame_gaps(readings: pd.DataFrame) -> SeriesGaps:
    """The gaps of the readings of one frame (normalised schema), with the row after each."""
    if not len(readings):
        return find_gaps(np.zeros(0, "int32"), np.zeros(0, "int64"), [])
    codes: dict[tuple[str, str], int] = {}
    channel = channel_codes(readings, codes)
    return find_gaps(channel, utc_ns(readings["time"]), list(codes))


def utc_ns(times: pd.Series) -> IntArray:
    """UTC nanoseconds since the epoch of a timezone-aware (or UTC) time column."""
    stamps = pd.DatetimeIndex(times)
    if stamps.tz is not None:
        stamps = stamps.tz_convert("UTC").tz_localize(None)
    return np.asarray(stamps.as_unit("ns").asi8, dtype="int64")


def gap_problems(gaps: SeriesGaps, file: str | None) -> list[Problem]:
    """One WARNING a gap (the first `MAX_LISTED`), then one summing up the rest; then one a
    channel not checked for coming at irregular times (as many, then one for the rest)."""
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
    problems += [
        Problem(ProblemKind.WARNING, message, file=file, source_id=source_id or None)
        for source_id, message in gaps.unchecked_lines()
    ]
    return problems
