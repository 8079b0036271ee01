"""Channels read at irregular times: the preview names each as not checked for missing
readings (in the words of the command line's warning), never leaves them silent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.core.mapping import MappingTable, apply_mapping
from app.core.preview.checks import Flag, check_readings
from connectors.base import make_readings
from connectors.series_gaps import MAX_LISTED, frame_gaps, gap_problems

START = pd.Timestamp("2026-03-28T12:00", tz="Europe/London")  # over the spring clock change


def _irregular(source: str, seed: int, *, stated_s: int = 300) -> pd.DataFrame:
    """400 readings, each 1 to 60 minutes (to the second) after the one before."""
    steps = np.random.default_rng(seed).integers(60, 3600, 400)
    times = START + pd.to_timedelta(np.cumsum(steps), unit="s")
    return make_readings(
        source_id=source, time=times, value=np.full(len(times), 1.5), interval_s=stated_s
    )


def _half_hours(source: str, drop: list[int]) -> pd.DataFrame:
    times = pd.date_range(START, periods=200, freq="30min").delete(drop)
    return make_readings(
        source_id=source, time=times, value=np.full(len(times), 2.0), interval_s=1800
    )


def _mapped(*frames: pd.DataFrame) -> pd.DataFrame:
    return apply_mapping(pd.concat(frames, ignore_index=True), MappingTable())


def test_an_irregular_channel_is_named_beside_a_regular_channels_gap() -> None:
    mapped = _mapped(_half_hours("REG", [50, 51]), _irregular("IRR", 7))
    report = check_readings(mapped, gaps=frame_gaps(mapped))
    lines = [(w.title, w.message, w.source_id) for w in report.warnings if w.kind != "unmapped"]
    assert lines == [
        ("Readings missing",
         "REG (kWh): 2 reading(s) missing from 2026-03-29 13:00 UTC (one every 30 min)", "REG"),
        ("Not checked for missing readings",
         "IRR (kWh): its readings come at irregular times (more than 100 different steps "
         "between them, none of them half of the steps), so its interval could not be "
         "inferred", "IRR"),
    ]  # fmt: skip
    not_checked = report.warnings[1]
    assert not_checked.first_row == int(mapped.index[mapped["source_id"] == "IRR"][0])
    # Its stated 5-minute interval is no gap check either: only REG's row after its gap.
    flagged = mapped[(report.flags & Flag.GAP) > 0]
    assert flagged["source_id"].tolist() == ["REG"]


def test_the_preview_says_what_the_command_line_says() -> None:
    mapped = _mapped(_irregular("A", 1), _irregular("B", 2), _half_hours("C", []))
    gaps = frame_gaps(mapped)
    problems = [p.message for p in gap_problems(gaps, "file.csv")]
    shown = [w for w in check_readings(mapped, gaps=gaps).warnings if w.kind == "not checked"]
    said = [f"{w.message.split(': ', 1)[0]}: {w.title.lower()}: " + w.message.split(": ", 1)[1]
            for w in shown]  # fmt: skip
    assert (
        said
        == problems
        == [
            f"{source} (kWh): not checked for missing readings: its readings come at irregular "
            "times (more than 100 different steps between them, none of them half of the steps), "
            "so its interval could not be inferred"
            for source in ("A", "B")
        ]
    )


def test_past_the_first_channels_one_line_counts_the_rest() -> None:
    count = MAX_LISTED + 5
    mapped = _mapped(*(_irregular(f"M{i:02}", i) for i in range(count)))
    report = check_readings(mapped, gaps=frame_gaps(mapped))
    shown = [w for w in report.warnings if w.kind == "not checked"]
    assert [w.source_id for w in shown[:MAX_LISTED]] == [f"M{i:02}" for i in range(MAX_LISTED)]
    assert len(shown) == MAX_LISTED + 1
    assert shown[-1].count == 5 and shown[-1].message.startswith(
        "… and 5 more channel(s) whose readings come at irregular times"
    )
    assert report.count(Flag.GAP) == 0


def test_regular_channels_are_never_named_not_checked() -> None:
    mapped = _mapped(_half_hours("REG", [10]), _half_hours("OTHER", []))
    report = check_readings(mapped, gaps=frame_gaps(mapped))
    assert [w.kind for w in report.warnings if w.kind != "unmapped"] == ["gap before"]
