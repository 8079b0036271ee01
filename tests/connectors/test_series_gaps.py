"""Missing readings in row-per-reading series: each gap named by channel, first time and count.

The interval is each channel's commonest step, in UTC: a clock-change day in
Europe/London or America/New_York is no gap; a channel too short to tell says
nothing; for random series with random runs removed the gaps reported are
exactly the runs removed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import ProblemKind
from connectors.gap_tracker import GapTracker, gap_tracker_for
from connectors.series_gaps import (
    IRREGULAR_STEPS,
    MAX_LISTED,
    UNCHECKED,
    frame_gaps,
    gap_problems,
)

INTERVALS = [60, 300, 900, 1800, 3600, 86_400]


def _frame(channel: str, times: pd.DatetimeIndex, quantity: str = "kWh") -> pd.DataFrame:
    return pd.DataFrame({"source_id": channel, "quantity": quantity, "time": times})


def _found(*frames: pd.DataFrame) -> list[tuple[str, str, pd.Timestamp, int]]:
    tracker = GapTracker()
    for frame in frames:
        tracker.add(frame)
    gaps = tracker.gaps()
    return [
        (*gaps.channels[int(c)], pd.Timestamp(int(t), tz="UTC"), int(n))
        for c, t, n in zip(gaps.channel, gaps.first_missing_ns, gaps.missing, strict=True)
    ]


@st.composite
def series_with_runs_removed(draw: st.DrawFn) -> tuple[pd.DataFrame, list[tuple[str, int, int]]]:
    """Channels of regular readings with runs removed, rows shuffled: (readings, removed runs).

    Runs are at least two kept readings apart, never among the first three or the
    last two readings, so the interval stays the commonest step, seen at least
    three times (what the check needs to tell it).
    """
    frames, removed = [], []
    for number in range(draw(st.integers(1, 4))):
        interval = draw(st.sampled_from(INTERVALS))
        start = pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(
            seconds=draw(st.integers(0, 5 * 365 * 86_400))
        )
        count = draw(st.integers(4, 200))
        keep = np.ones(count, dtype=bool)
        position = 3 + draw(st.integers(0, 5))
        while True:
            run = draw(st.integers(1, 9))
            if position + run > count - 2:
                break
            keep[position : position + run] = False
            removed.append((f"C{number}", position, run))
            position += run + 2 + draw(st.integers(0, 10))
        times = start + pd.to_timedelta(np.arange(count) * interval, unit="s")
        frames.append(_frame(f"C{number}", times[keep]))
        removed[:] = [
            (c, p, r) if c != f"C{number}" else (c, int(times[p].value), r) for c, p, r in removed
        ]
    readings = pd.concat(frames, ignore_index=True)
    order = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(len(readings))
    return readings.iloc[order].reset_index(drop=True), removed


@settings(max_examples=100, deadline=None)
@given(series_with_runs_removed(), st.integers(1, 4))
def test_the_gaps_reported_are_exactly_the_runs_removed(
    drawn: tuple[pd.DataFrame, list[tuple[str, int, int]]], batches: int
) -> None:
    readings, removed = drawn
    parts = np.array_split(np.arange(len(readings)), batches)  # a series spans batches
    found = _found(*(readings.iloc[p] for p in parts))
    expected = sorted((c, "kWh", pd.Timestamp(t, tz="UTC"), n) for c, t, n in removed)
    assert sorted(found) == expected


def test_clock_change_days_are_no_gap_in_london_and_new_york_and_a_gap_there_is_found() -> None:
    frames = []
    for zone, days in (("Europe/London", ("2026-03-29", "2026-10-25")),
                       ("America/New_York", ("2026-03-08", "2026-11-01"))):  # fmt: skip
        for day in days:
            start = pd.Timestamp(day, tz=zone) - pd.Timedelta(days=1)
            local = pd.date_range(start, start + pd.Timedelta(days=3), freq="30min")
            frames.append(_frame(f"{zone}:{day}", local.tz_convert("UTC")))
    assert _found(*frames) == []  # 23- and 25-hour local days are whole
    london = frames[0]
    night = pd.Timestamp("2026-03-29 00:30", tz="Europe/London")  # 00:30 GMT; 02:00 BST next
    cut = london[(london["time"] < night) | (london["time"] > night + pd.Timedelta(hours=1))]
    assert _found(cut) == [  # local 00:30, 02:00 and 02:30 missing: 3 half-hours, not 4
        ("Europe/London:2026-03-29", "kWh", pd.Timestamp("2026-03-29T00:30Z"), 3)
    ]


def test_a_channel_too_short_or_too_irregular_to_tell_says_nothing() -> None:
    t = pd.Timestamp("2026-01-01", tz="UTC")
    minutes = [0, 30, 60, 180]  # two 30-min steps only: too few to tell
    short = _frame("short", pd.DatetimeIndex([t + pd.Timedelta(minutes=m) for m in minutes]))
    tie = [0, 30, 60, 90, 150, 210, 270]  # three 30-min steps, three 60-min: no interval
    tied = _frame("tied", pd.DatetimeIndex([t + pd.Timedelta(minutes=m) for m in tie]))
    doubled = _frame("dup", pd.date_range(t, periods=10, freq="15min").repeat(2))
    assert _found(short, tied, doubled) == []


def test_each_gap_is_one_warning_then_one_line_sums_up_the_rest() -> None:
    times = pd.date_range("2026-01-01", periods=2000, freq="h", tz="UTC")
    keep = np.ones(len(times), dtype=bool)
    keep[10:1000:30] = False  # 33 single readings missing
    tracker = GapTracker()
    tracker.add(_frame("M1", times[keep], "kW"))
    problems = gap_problems(tracker.gaps(), "readings.csv")
    assert len(problems) == MAX_LISTED + 1
    assert all(p.kind is ProblemKind.WARNING for p in problems)
    assert problems[0].describe() == (
        "readings.csv: M1 (kW): 1 reading(s) missing from 2026-01-01 10:00 UTC (one every 1 h)"
    )
    assert problems[-1].message.startswith("… and 13 more gap(s) in 1 channel(s)")
    assert gap_tracker_for("uk-hh") is None and gap_tracker_for("generic") is not None


def test_every_other_reading_missing_is_one_gap_each() -> None:
    times = pd.date_range("2026-06-01", periods=200, freq="5min", tz="UTC")
    keep = np.ones(len(times), dtype=bool)
    keep[100:109:2] = False  # 100, 102, 104, 106, 108: five steps of 10 min in a row
    found = _found(_frame("M1", times[keep]))
    assert found == [("M1", "kWh", times[i], 1) for i in range(100, 109, 2)]


def _in_time_order(readings: pd.DataFrame, by_channel: bool) -> pd.DataFrame:
    keys = ["source_id", "time"] if by_channel else ["time", "source_id"]
    return readings.sort_values(keys, kind="stable").reset_index(drop=True)


@settings(max_examples=100, deadline=None)
@given(series_with_runs_removed(), st.integers(1, 6), st.booleans())
def test_in_order_batches_give_the_same_gaps_as_shuffled_rows(
    drawn: tuple[pd.DataFrame, list[tuple[str, int, int]]], batches: int, by_channel: bool
) -> None:
    shuffled, removed = drawn
    ordered = _in_time_order(shuffled, by_channel)  # meter by meter, or time by time
    parts = np.array_split(np.arange(len(ordered)), batches)
    found = _found(*(ordered.iloc[p] for p in parts))
    assert sorted(found) == sorted(_found(shuffled))  # (listed by first appearance)
    assert sorted(found) == sorted((c, "kWh", pd.Timestamp(t, tz="UTC"), n) for c, t, n in removed)


@st.composite
def any_series(draw: st.DrawFn) -> pd.DataFrame:
    """Channels of readings with any steps (repeats, irregular runs), some rows out of order."""
    frames = []
    for number in range(draw(st.integers(1, 3))):
        steps = draw(
            st.lists(st.sampled_from([0, 5, 5, 5, 10, 15, 30, 7]), min_size=1, max_size=60)
        )
        minutes = np.cumsum([draw(st.integers(0, 10**6)), *steps])
        times = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(minutes, unit="min")
        frame = _frame(f"C{number}", pd.DatetimeIndex(times))
        if draw(st.booleans()):  # this channel's rows go back in time somewhere
            cut = draw(st.integers(0, len(frame)))
            frame = pd.concat([frame.iloc[cut:], frame.iloc[:cut]])
        frames.append(frame)
    readings = pd.concat(frames, ignore_index=True)
    if draw(st.booleans()):
        readings = _in_time_order(readings, by_channel=False)
    return readings


@settings(max_examples=200, deadline=None)
@given(any_series(), st.integers(1, 5))
def test_batch_by_batch_finds_what_the_whole_frame_check_finds(
    readings: pd.DataFrame, batches: int
) -> None:
    tracker = GapTracker()
    for part in np.array_split(np.arange(len(readings)), batches):
        tracker.add(readings.iloc[part])
    online, whole = tracker.gaps(), frame_gaps(readings)
    assert online.channels == whole.channels
    for name in ("channel", "first_missing_ns", "missing", "interval_s"):
        assert getattr(online, name).tolist() == getattr(whole, name).tolist(), name


def test_a_reading_without_a_time_is_no_step() -> None:
    times = pd.date_range("2026-01-01", periods=48, freq="30min", tz="UTC")
    with_blanks = pd.DatetimeIndex([times[0], pd.NaT, *times[1:20], pd.NaT, *times[22:]])
    assert _found(_frame("M1", with_blanks)) == [("M1", "kWh", times[20], 2)]


def _steps_to_frame(name: str, start_s: int, steps: list[int]) -> pd.DataFrame:
    seconds = np.cumsum([start_s, *steps])
    times = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(seconds, unit="s")
    return _frame(name, pd.DatetimeIndex(times))


@st.composite
def irregular_series(draw: st.DrawFn) -> list[pd.DataFrame]:
    """Channels read at irregular times: every step a different number of seconds."""
    frames = []
    for number in range(draw(st.integers(1, 3))):
        size = draw(st.integers(0, 3 * IRREGULAR_STEPS))
        steps = st.lists(st.integers(1, 10**6), unique=True, min_size=size, max_size=size)
        frames.append(_steps_to_frame(f"C{number}", draw(st.integers(0, 10**6)), draw(steps)))
    return frames


@settings(max_examples=100, deadline=None)
@given(irregular_series(), st.integers(1, 8), st.booleans())
def test_channels_at_irregular_times_are_named_not_checked_and_memory_stays_bounded(
    frames: list[pd.DataFrame], batches: int, by_channel: bool
) -> None:
    readings = _in_time_order(pd.concat(frames, ignore_index=True), by_channel)
    tracker = GapTracker()
    for part in np.array_split(np.arange(len(readings)), batches):
        tracker.add(readings.iloc[part])
        assert tracker.held() <= 4 * IRREGULAR_STEPS * len(frames)  # not a number a reading
    gaps = tracker.gaps()
    said = [p.describe() for p in gap_problems(gaps, "r.csv")]
    long = [f["source_id"].iloc[0] for f in frames if len(f) - 1 > IRREGULAR_STEPS]
    assert sorted(said) == [f"r.csv: {name} (kWh): {UNCHECKED}" for name in long]  # once each
    assert "interval could not be inferred" in UNCHECKED and len(gaps) == 0
    whole = frame_gaps(readings)  # the preview's check says the same
    assert whole.unchecked.tolist() == gaps.unchecked.tolist() and len(whole) == 0


def test_a_long_channel_at_irregular_times_keeps_a_few_hundred_numbers_not_one_a_reading() -> None:
    steps = np.random.default_rng(7).permutation(np.arange(1, 100_001)).tolist()
    readings = _steps_to_frame("M1", 0, steps)
    regular = _frame("M2", pd.date_range("2024-01-01", periods=len(readings), freq="min", tz="UTC"))
    tracker = GapTracker()
    for part in np.array_split(np.arange(len(readings)), 50):
        tracker.add(readings.iloc[part])
        tracker.add(regular.iloc[part])
    assert tracker.held() < 4 * IRREGULAR_STEPS  # was 4 numbers a reading: 400,000
    problems = gap_problems(tracker.gaps(), "r.csv")
    assert [p.describe() for p in problems] == [f"r.csv: M1 (kWh): {UNCHECKED}"]
    assert problems[0].kind is ProblemKind.WARNING and problems[0].source_id == "M1"


@st.composite
def regular_series_with_many_gap_lengths(
    draw: st.DrawFn,
) -> tuple[pd.DataFrame, list[tuple[str, pd.Timestamp, int]]]:
    """One channel with more gaps of different lengths than `IRREGULAR_STEPS`, at least
    two whole intervals between gaps: its interval is still most of its steps."""
    interval = draw(st.sampled_from(INTERVALS))
    lengths = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).permutation(200) + 1
    gaps = int(draw(st.integers(IRREGULAR_STEPS + 1, 150)))
    keep, removed = [True] * 3, []
    for run in lengths[:gaps].tolist():
        removed.append((len(keep), run))
        keep += [False] * run + [True] * draw(st.integers(3, 5))
    times = pd.Timestamp("2022-01-01", tz="UTC") + pd.to_timedelta(
        np.arange(len(keep)) * interval, unit="s"
    )
    expected = [("M1", times[p], r) for p, r in removed]
    return _frame("M1", times[np.array(keep)]), expected


@settings(max_examples=30, deadline=None)
@given(regular_series_with_many_gap_lengths(), st.integers(1, 6))
def test_a_regular_series_with_many_gap_lengths_still_has_every_gap_named(
    drawn: tuple[pd.DataFrame, list[tuple[str, pd.Timestamp, int]]], batches: int
) -> None:
    readings, removed = drawn
    parts = np.array_split(np.arange(len(readings)), batches)
    found = _found(*(readings.iloc[p] for p in parts))
    assert found == [(c, "kWh", t, n) for c, t, n in removed]
    assert len(frame_gaps(readings).unchecked) == 0


CHANGES = {  # 8 days from these hold the change (the last Sunday; the US: 2nd / 1st Sunday)
    "Europe/London": ("03-25", "10-25"),
    "America/New_York": ("03-08", "11-01"),
}


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(CHANGES)), st.integers(2020, 2030), st.booleans(),
    st.sampled_from([300, 600, 900, 1800, 3600]), st.integers(1, 5),
)  # fmt: skip
def test_clock_change_weeks_read_from_wall_clock_times_give_no_gap(
    zone: str, year: int, autumn: bool, interval: int, batches: int
) -> None:
    start = pd.Timestamp(f"{year}-{CHANGES[zone][autumn]}", tz=zone)  # a week that holds it
    local = pd.date_range(start, start + pd.Timedelta(days=8), freq=f"{interval}s")
    wall = local.tz_localize(None)  # what a file says: the hour skipped, the repeated one twice
    placed = wall.tz_localize(zone, ambiguous="infer").tz_convert("UTC")
    readings = _frame(f"{zone}:{year}", placed)
    parts = np.array_split(np.arange(len(readings)), batches)
    tracker = GapTracker()
    for part in parts:
        tracker.add(readings.iloc[part])
    assert len(tracker.gaps()) == 0 and gap_problems(tracker.gaps(), "r.csv") == []
    assert bool(wall.duplicated().any()) is autumn  # the repeated hour is in the file
