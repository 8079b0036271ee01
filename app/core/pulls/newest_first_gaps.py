"""Missing readings of a pull that comes newest first (Verdigris), in bounded memory (no Qt).

A Verdigris pull asks for each channel's windows newest first, each window
in time order. `connectors.gap_tracker.GapTracker` follows a channel in
bounded memory only while its readings move forward in time; fed as they
come, every channel would go back at each window and be kept as its times.
So the tracker is given each channel's readings in reverse: each batch's
times negated (a later reading is a smaller number), which makes the whole
pull one forward series per channel. A gap found there is turned back: its
first missing reading is the one after the earlier reading of the two.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from connectors.gap_tracker import GapTracker
from connectors.series_gaps import NS, SeriesGaps


class NewestFirstGaps:
    """The gaps of readings that come window by window, newest window first."""

    def __init__(self) -> None:
        self.tracker = GapTracker()

    def add(self, readings: pd.DataFrame) -> None:
        """Take in one batch (normalised schema): its windows newest first or in any order."""
        if not len(readings):
            return
        times = pd.DatetimeIndex(readings["time"]).tz_convert("UTC").as_unit("ns")
        mirrored = pd.to_datetime(-times.asi8, unit="ns", utc=True)
        frame = pd.DataFrame(
            {"source_id": readings["source_id"].to_numpy(),
             "quantity": readings["quantity"].to_numpy(), "time": mirrored}
        )  # fmt: skip
        self.tracker.add(frame.sort_values("time", kind="stable"))

    def gaps(self) -> SeriesGaps:
        """The gaps found, in real time, ordered by channel then time."""
        mirrored = self.tracker.gaps()
        later = -mirrored.first_missing_ns + mirrored.interval_s * NS  # the reading after it
        first = later - mirrored.missing * mirrored.interval_s * NS
        order = np.lexsort((first, mirrored.channel))
        return dataclasses.replace(
            mirrored,
            channel=mirrored.channel[order],
            first_missing_ns=first[order],
            missing=mirrored.missing[order],
            interval_s=mirrored.interval_s[order],
            after_row=mirrored.after_row[order],
        )
