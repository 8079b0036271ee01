"""A pull that comes newest window first: the whole series' gaps, in bounded memory."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.pulls.newest_first_gaps import NewestFirstGaps
from connectors.series_gaps import frame_gaps


@st.composite
def windows_newest_first(draw: st.DrawFn) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Channels of regular readings with runs removed, cut into windows sent newest first."""
    interval = draw(st.sampled_from([60, 900, 3600, 86_400]))
    start = pd.Timestamp("2024-03-01", tz="UTC")
    times = start + pd.to_timedelta(np.arange(draw(st.integers(8, 400))) * interval, unit="s")
    frames = []
    for number in range(draw(st.integers(1, 3))):
        keep = np.ones(len(times), dtype=bool)
        for _ in range(draw(st.integers(0, 6))):
            at = draw(st.integers(0, len(times) - 1))
            keep[at : at + draw(st.integers(1, 40))] = False
        frames.append(pd.DataFrame({"source_id": f"C{number}", "quantity": "kWh",
                                    "time": times[keep]}))  # fmt: skip
    whole = pd.concat(frames, ignore_index=True)
    cuts = sorted(set(draw(st.lists(st.integers(1, len(times) - 1), max_size=8))))
    edges = [times[0], *times[cuts], times[-1] + pd.Timedelta(seconds=interval)]
    windows = [
        whole[(whole["time"] >= low) & (whole["time"] < high)].sort_values(["source_id", "time"])
        for low, high in pairwise(edges)
    ]
    return windows[::-1], whole


@settings(max_examples=150, deadline=None)
@given(windows_newest_first(), st.integers(1, 3))
def test_windows_newest_first_give_the_gaps_of_the_whole_series_and_keep_no_times(
    drawn: tuple[list[pd.DataFrame], pd.DataFrame], per_batch: int
) -> None:
    windows, whole = drawn
    gaps = NewestFirstGaps()
    for at in range(0, len(windows), per_batch):  # a batch may hold several windows
        gaps.add(pd.concat(windows[at : at + per_batch], ignore_index=True))
    found, expected = gaps.gaps(), frame_gaps(whole)
    named = lambda g: sorted(  # noqa: E731
        (g.channels[int(c)], int(t), int(n), int(i))
        for c, t, n, i in zip(g.channel, g.first_missing_ns, g.missing, g.interval_s, strict=True)
    )
    assert named(found) == named(expected)
    assert gaps.tracker.held() <= 4 * (3 * len(expected) + 2 * 3)  # runs only: no 8 bytes a reading
