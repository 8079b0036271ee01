"""Missing readings of one file tracked batch by batch, in memory that does not grow with it.

Readings of a channel mostly arrive in time order (a file written meter by
meter, or time by time), so each channel is followed as it goes: its last
time and its steps kept as runs of equal steps (a regular series is one run
however long, plus two a gap). The interval is known only at the end (the
commonest step), so every run is kept, not only the ones that look like gaps.
A channel whose readings go back in time (rows in any order, across batches)
is kept as its times instead (8 bytes a reading, its runs so far added back at
the end) and checked as `connectors.series_gaps.find_gaps` would. Either way
the gaps are the same; the tracker keeps no rows (`SeriesGaps.after_row` is -1).

A channel whose readings come at irregular times (every step different) would
keep a run a reading: once it holds more than `IRREGULAR_STEPS` runs, its
steps are counted, and with more than that many different steps, none of them
half of its steps, it is dropped: its runs forgotten, its further readings
ignored, and named in `SeriesGaps.unchecked` (its interval could not be
inferred, so it was not checked). A channel that passes is looked at again
when its runs have doubled. So memory stays bounded for such channels too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from connectors.series_gaps import (
    IRREGULAR_STEPS,
    OWN_GAP_WARNINGS,
    Codes,
    IntArray,
    SeriesGaps,
    channel_codes,
    gaps_of_runs,
    irregular_channels,
    utc_ns,
)

Runs = tuple[Codes, IntArray, IntArray, IntArray]  # channel, first time, step, length
Mask = np.ndarray[Any, np.dtype[np.bool_]]
NOT_A_TIME = np.iinfo("int64").min  # NaT as int64
PIECES = 32  # stored pieces merged into one array past this many


def _collapse(channel: Codes, first_ns: IntArray, step: IntArray) -> Runs:
    """Consecutive steps of one channel and size as runs (input grouped by channel, in order)."""
    change = np.ones(len(channel), dtype=bool)
    change[1:] = (channel[1:] != channel[:-1]) | (step[1:] != step[:-1])
    start = np.flatnonzero(change)
    length = np.diff(np.append(start, len(channel))).astype("int64")
    return channel[start], first_ns[start], step[start], length


def _expand(runs: Runs) -> tuple[Codes, IntArray]:
    """Every time a run holds: (channel, time) of its readings."""
    channel, first_ns, step, length = runs
    counts = length + 1
    nth = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(channel, counts), np.repeat(first_ns, counts) + nth * np.repeat(step, counts)


def _group_starts(channel: Codes) -> IntArray:
    """Where each channel's group starts (input grouped by channel)."""
    return np.flatnonzero(_new_channel(channel))


def _new_channel(channel: Codes) -> Mask:
    change = np.ones(len(channel), dtype=bool)
    change[1:] = channel[1:] != channel[:-1]
    return change


class _Pieces:
    """Arrays added piece by piece, merged now and then (a few numpy arrays, no lists of rows)."""

    def __init__(self, columns: int) -> None:
        self._parts: list[list[np.ndarray[Any, Any]]] = [[] for _ in range(columns)]

    def add(self, *arrays: np.ndarray[Any, Any]) -> None:
        if not len(arrays[0]):
            return
        for part, array in zip(self._parts, arrays, strict=True):
            part.append(array)
        if len(self._parts[0]) > PIECES:
            self._parts = [[np.concatenate(part)] for part in self._parts]

    def arrays(self, dtypes: tuple[str, ...]) -> list[np.ndarray[Any, Any]]:
        return [
            np.concatenate(part) if part else np.zeros(0, dtype)
            for part, dtype in zip(self._parts, dtypes, strict=True)
        ]

    def replace(self, *arrays: np.ndarray[Any, Any]) -> None:
        """Hold these arrays instead of every piece so far."""
        self._parts = [[array] for array in arrays]

    def size(self) -> int:
        """How many numbers are held, every column counted."""
        return sum(len(array) for part in self._parts for array in part)


class GapTracker:
    """Follows the channel and time of every reading of one file, batch by batch.

    Memory: a few numbers a channel and a few a gap when each channel's readings
    come in time order; 8 bytes a reading for a channel whose readings do not;
    at most about `IRREGULAR_STEPS` runs for a channel read at irregular times
    (then dropped, and named as not checked).
    """

    def __init__(self) -> None:
        self._codes: dict[tuple[str, str], int] = {}
        self._last = np.zeros(0, dtype="int64")  # each channel's latest time (ns)
        self._seen = np.zeros(0, dtype=bool)
        self._buffered = np.zeros(0, dtype=bool)  # its times kept, not followed
        self._open = np.zeros((3, 0), dtype="int64")  # the run going on: first, step, length
        self._closed = _Pieces(4)  # runs that ended: channel, first, step, length
        self._times = _Pieces(3)  # buffered channels: group code, group size, times
        self._runs = np.zeros(0, dtype="int64")  # runs each followed channel holds
        self._check_at = np.zeros(0, dtype="int64")  # its steps counted past this many runs
        self._irregular = np.zeros(0, dtype=bool)  # dropped: irregular times, not checked

    def add(self, readings: pd.DataFrame) -> None:
        """Take in the channel and time of each reading of a batch (normalised schema)."""
        if not len(readings):
            return
        channel = channel_codes(readings, self._codes)
        self._grow(len(self._codes))
        times = utc_ns(readings["time"])
        timed = times != NOT_A_TIME  # a reading without a time is no step
        if not bool(timed.all()):
            channel, times = channel[timed], times[timed]
        if bool(self._irregular.any()):  # channels dropped: their readings are not looked at
            live = ~self._irregular[channel]
            channel, times = channel[live], times[live]
        if bool(np.any(channel[1:] < channel[:-1])):
            order = np.argsort(channel, kind="stable")
            channel, times = channel[order], times[order]
        starts = _group_starts(channel)
        for code in np.unique(channel[starts][self._going_back(channel, times, starts)]):
            self._start_buffering(int(code))
        kept = self._buffered[channel]
        if bool(kept.any()):
            kept_channel = channel[kept]
            begin = _group_starts(kept_channel)
            sizes = np.diff(np.append(begin, len(kept_channel)))
            self._times.add(kept_channel[begin], sizes, times[kept])
            channel, times = channel[~kept], times[~kept]
        self._follow(channel, times)
        due = np.flatnonzero((self._runs > self._check_at) & ~self._buffered)
        if len(due):
            self._check_regular(due)

    def _grow(self, count: int) -> None:
        if count <= len(self._last):
            return
        more = max(count, 2 * len(self._last)) - len(self._last)
        self._last = np.append(self._last, np.zeros(more, "int64"))
        self._seen = np.append(self._seen, np.zeros(more, bool))
        self._buffered = np.append(self._buffered, np.zeros(more, bool))
        self._open = np.append(self._open, np.zeros((3, more), "int64"), axis=1)
        self._runs = np.append(self._runs, np.zeros(more, "int64"))
        self._check_at = np.append(self._check_at, np.full(more, IRREGULAR_STEPS, "int64"))
        self._irregular = np.append(self._irregular, np.zeros(more, bool))

    def _going_back(self, channel: Codes, times: IntArray, starts: IntArray) -> Mask:
        """Which channel groups of a batch (grouped, batch order kept) go back in time."""
        back = np.flatnonzero((times[1:] < times[:-1]) & (channel[1:] == channel[:-1])) + 1
        late = np.zeros(len(starts), dtype=bool)
        late[np.searchsorted(starts, back, side="right") - 1] = True
        group = channel[starts]
        return late | (self._seen[group] & (times[starts] < self._last[group]))

    def _start_buffering(self, code: int) -> None:
        """Keep a channel's times from now on: its open run ends, its latest time is kept."""
        if self._buffered[code]:
            return
        first, step, length = self._open[:, code]
        if step > 0:
            self._closed.add(
                np.array([code], "int32"), *(np.array([v]) for v in (first, step, length))
            )
        if self._seen[code]:
            self._times.add(np.array([code], "int32"), np.array([1]), self._last[code : code + 1])
        self._open[:, code] = 0
        self._buffered[code] = True

    def _follow(self, channel: Codes, times: IntArray) -> None:
        """Steps of channels read in time order (grouped by channel), added to their runs."""
        if not len(channel):
            return
        starts = _group_starts(channel)
        group = channel[starts]
        prev = np.empty_like(times)
        prev[1:] = times[:-1]
        prev[starts] = self._last[group]
        has_prev = np.ones(len(times), dtype=bool)
        has_prev[starts] = self._seen[group]
        self._last[group] = times[np.append(starts[1:], len(times)) - 1]
        self._seen[group] = True
        step = times - prev
        step_on = has_prev & (step > 0)  # a repeated time is no step
        if bool(step_on.any()):
            self._extend(*_collapse(channel[step_on], prev[step_on], step[step_on]))

    def _extend(self, channel: Codes, first: IntArray, step: IntArray, length: IntArray) -> None:
        """A batch's runs: a channel's first may go on with its open run; its last stays open."""
        head = _group_starts(channel)
        head_code = channel[head]
        joins = self._open[1, head_code] == step[head]
        joined, code = head[joins], head_code[joins]
        first[joined] = self._open[0, code]
        length[joined] += self._open[2, code]
        self._runs[code] -= 1  # a batch's first run going on with the open one is no new run
        self._runs += np.bincount(channel, minlength=len(self._runs))
        ended = head_code[~joins & (self._open[1, head_code] > 0)]
        self._closed.add(ended, *self._open[:, ended])
        tail = np.append(head[1:], len(channel)) - 1
        done = np.ones(len(channel), dtype=bool)
        done[tail] = False
        self._closed.add(channel[done], first[done], step[done], length[done])
        self._open[:, channel[tail]] = np.vstack((first[tail], step[tail], length[tail]))

    def _check_regular(self, codes: IntArray) -> None:
        """Drop the channels among `codes` whose steps show no regular interval.

        The others are looked at again when their runs have doubled.
        """
        closed = self._closed.arrays(("int32", "int64", "int64", "int64"))
        mine = np.isin(closed[0], codes)
        opened = codes[self._open[1, codes] > 0]
        channel = np.concatenate((closed[0][mine], opened))
        step = np.concatenate((closed[2][mine], self._open[1, opened]))
        length = np.concatenate((closed[3][mine], self._open[2, opened]))
        dropped = irregular_channels(channel.astype("int32"), step, length)
        self._check_at[codes] = 2 * self._runs[codes]
        if not len(dropped):
            return
        self._irregular[dropped] = True
        self._open[:, dropped] = 0
        self._runs[dropped] = 0
        kept = ~np.isin(closed[0], dropped)
        self._closed.replace(*(column[kept] for column in closed))

    def held(self) -> int:
        """How many numbers the tracker holds beyond a few per channel (runs and times)."""
        return self._closed.size() + self._times.size()

    def gaps(self) -> SeriesGaps:
        """The gaps of every channel seen so far."""
        channels = list(self._codes)
        closed = self._closed.arrays(("int32", "int64", "int64", "int64"))
        going = np.flatnonzero(self._open[1, : len(channels)] > 0).astype("int32")
        still_open = (going, *self._open[:, going])
        runs = [np.concatenate(pair) for pair in zip(closed, still_open, strict=True)]
        followed = ~self._buffered[runs[0]]
        parts = [[r[followed] for r in runs]]
        if bool(self._buffered.any()):
            parts.append(list(self._buffered_runs(tuple(r[~followed] for r in runs))))  # type: ignore[arg-type]
        c, f, s, n = (np.concatenate(column) for column in zip(*parts, strict=True))
        unchecked = np.flatnonzero(self._irregular[: len(channels)])
        return gaps_of_runs(c.astype("int32"), f, s, n, channels, unchecked)

    def _buffered_runs(self, earlier: Runs) -> Runs:
        """The runs of the channels kept as times (their runs from before added back).

        One channel at a time, so the sorting needs room for one channel's times only.
        """
        group, sizes, times = self._times.arrays(("int32", "int64", "int64"))
        ends = np.cumsum(sizes)
        pieces: dict[int, list[IntArray]] = {}
        for code, end, size in zip(group.tolist(), ends.tolist(), sizes.tolist(), strict=True):
            pieces.setdefault(code, []).append(times[end - size : end])
        old_channel, old_times = _expand(earlier)
        order = np.argsort(old_channel, kind="stable")
        old_channel, old_times = old_channel[order], old_times[order]
        begin = _group_starts(old_channel)
        stops = np.append(begin[1:], len(order))[: len(begin)]
        for code, start, stop in zip(old_channel[begin].tolist(), begin, stops, strict=True):
            pieces.setdefault(code, []).append(old_times[start:stop])
        runs: list[Runs] = []
        for code, parts in pieces.items():
            series = np.unique(np.concatenate(parts))  # sorted, a repeated time once
            step = np.diff(series)
            channel = np.full(len(step), code, dtype="int32")
            runs.append(_collapse(channel, series[:-1], step))
        if not runs:
            empty = np.zeros(0, "int64")
            return np.zeros(0, "int32"), empty, empty, empty
        c, f, s, n = (np.concatenate(column) for column in zip(*runs, strict=True))
        return c, f, s, n


def gap_tracker_for(connector_id: str) -> GapTracker | None:
    """A tracker for a file read by `connector_id`, or None when that reader warns itself."""
    return None if connector_id in OWN_GAP_WARNINGS else GapTracker()
