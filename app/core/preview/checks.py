"""Warnings worth showing before readings are sent, computed in columns.

`check_readings` looks at mapped readings (the output of
`app.core.mapping.apply_mapping`) and the problems the connector met, and
returns one flag byte per row (for highlighting) plus a list of plain
warnings: held-back clock-change days, gaps (one warning a gap when
`connectors.series_gaps` found them by each channel's own interval), channels
not checked for gaps (read at irregular times: named, so silence is never
read as "no gaps"), spikes, negatives, duplicates, estimated values and
unmapped sources. Everything is vectorised: a million
rows take well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntFlag
from typing import Any

import numpy as np
import pandas as pd

from connectors.base import Problem, ProblemKind
from connectors.series_gaps import MAX_LISTED, UNCHECKED, SeriesGaps


class Flag(IntFlag):
    """What is worth a second look on one row."""

    GAP = 1  # readings are missing just before this one
    SPIKE = 2
    NEGATIVE = 4
    DUPLICATE = 8
    ESTIMATED = 16
    UNMAPPED = 32


FLAG_LABELS: dict[Flag, str] = {
    Flag.GAP: "gap before",
    Flag.SPIKE: "spike",
    Flag.NEGATIVE: "negative",
    Flag.DUPLICATE: "duplicate",
    Flag.ESTIMATED: "estimated",
    Flag.UNMAPPED: "unmapped",
}

# What a user reads for each kind of warning (the kinds above stay the codes tests and logs use).
PLAIN_LABELS: dict[str, str] = {
    "gap before": "Readings missing",
    "spike": "Unusual jump",
    "negative": "Below zero",
    "duplicate": "Same time twice",
    "estimated": "Estimated",
    "unmapped": "Not mapped yet",
    "held back": "Held back",
    "bad value": "Unreadable value",
    "note": "Note",
    "not checked": "Not checked for missing readings",
}
NOT_CHECKED = "not checked"  # a channel read at irregular times: no interval, no gap check


def plain_label(kind: str) -> str:
    """The user's words for warning kind `kind` (e.g. ``"spike"`` → ``"Unusual jump"``)."""
    return PLAIN_LABELS.get(kind, kind.capitalize())


@dataclass(frozen=True)
class PreviewWarning:
    """One warning line: what, how many, and the first row it concerns."""

    kind: str
    message: str
    count: int = 1
    first_row: int | None = None
    source_id: str | None = None

    @property
    def title(self) -> str:
        """The kind in the user's words, e.g. ``"Unusual jump"``."""
        return plain_label(self.kind)


@dataclass
class PreviewReport:
    """Row flags (uint8, one per row) and the warnings, most serious first."""

    flags: np.ndarray[Any, np.dtype[np.uint8]]
    warnings: list[PreviewWarning] = field(default_factory=list)

    def count(self, flag: Flag) -> int:
        """How many rows carry `flag`."""
        return int(np.count_nonzero(self.flags & int(flag)))


def describe_flags(value: int) -> str:
    """The flags of one row in the user's words, e.g. ``"Unusual jump, Estimated"``."""
    return ", ".join(plain_label(kind) for flag, kind in FLAG_LABELS.items() if value & int(flag))


def check_readings(
    mapped: pd.DataFrame,
    problems: Sequence[Problem] = (),
    *,
    spike_factor: float = 4.0,
    gaps: SeriesGaps | None = None,
) -> PreviewReport:
    """Flag rows and list warnings for mapped readings.

    Args:
        mapped: readings with the target columns of `apply_mapping` (``mapped`` at least).
        problems: the connector's problems; held-back days and bad values become warnings.
        spike_factor: a value is a spike when it is this many times larger than both
            its neighbours and the channel's median.
        gaps: the missing readings of each channel, by its own interval
            (`connectors.series_gaps.frame_gaps` over `mapped` as given): one warning a
            gap (the first `MAX_LISTED`, then one line for the rest) and the row after
            each flagged, in place of the count of gaps by the readings' stated interval;
            then one warning a channel it did not check (readings at irregular times, the
            first `MAX_LISTED`, then one line for the rest), whose rows are never flagged
            as a gap by their stated interval either.

    Returns:
        The report; `flags[i]` belongs to row i of `mapped` as given.
    """
    n = len(mapped)
    flags = np.zeros(n, dtype=np.uint8)
    warnings = _problem_warnings(problems)
    if n == 0:
        return PreviewReport(flags, warnings)
    order, group = _sorted_groups(mapped)
    gap_rows = _gaps(mapped, order, group)
    listed = gap_warnings(gaps) if gaps is not None and len(gaps) else []
    if listed:
        assert gaps is not None
        gap_rows[gaps.after_row] = True
    unchecked: list[PreviewWarning] = []
    if gaps is not None and len(gaps.unchecked):
        rows, first_rows = _unchecked_rows(mapped, order, group, gaps)
        gap_rows &= ~rows
        unchecked = unchecked_warnings(gaps, first_rows)
    checks = (
        (Flag.GAP, gap_rows),
        (Flag.DUPLICATE, _duplicates(mapped)),
        (Flag.SPIKE, _spikes(mapped, order, group, spike_factor)),
        (Flag.NEGATIVE, mapped["value"].to_numpy(dtype="float64") < 0),
        (Flag.ESTIMATED, mapped["estimated"].to_numpy(dtype=bool)),
        (Flag.UNMAPPED, ~_mapped_mask(mapped)),
    )
    for flag, mask in checks:
        flags[mask] |= np.uint8(flag)
        if flag is Flag.GAP and listed:
            warnings.extend(listed)
        elif bool(mask.any()):
            warnings.append(_row_warning(flag, mask, mapped))
        if flag is Flag.GAP:
            warnings.extend(unchecked)
    return PreviewReport(flags, warnings)


def gap_warnings(gaps: SeriesGaps) -> list[PreviewWarning]:
    """One warning a gap, naming the channel, the first missing time and how many are missing."""
    kind = FLAG_LABELS[Flag.GAP]
    warnings = [
        PreviewWarning(kind, message, int(gaps.missing[i]), int(gaps.after_row[i]), source_id)
        for i, source_id, message in gaps.lines()
    ]
    summary = gaps.summary()
    if summary is not None:
        rest = int(gaps.missing[MAX_LISTED:].sum())
        warnings.append(PreviewWarning(kind, summary, rest, int(gaps.after_row[MAX_LISTED])))
    return warnings


def unchecked_warnings(
    gaps: SeriesGaps, first_rows: dict[tuple[str, str], int] | None = None
) -> list[PreviewWarning]:
    """One warning a channel not checked for gaps (the first `MAX_LISTED`, then one line
    counting the rest), in the words of the command line's warning.

    Args:
        gaps: the gaps found; its `unchecked` channels came at irregular times.
        first_rows: the first row of each channel (source id, quantity), if known.
    """
    reason = UNCHECKED.partition(": ")[2]  # "its readings come at irregular times (…)"
    rows = first_rows or {}
    warnings = []
    for code in gaps.unchecked[:MAX_LISTED].tolist():
        source_id, quantity = gaps.channels[code]
        message = f"{source_id} ({quantity}): {reason}"
        first = rows.get((source_id, quantity))
        warnings.append(PreviewWarning(NOT_CHECKED, message, 1, first, source_id))
    rest = len(gaps.unchecked) - MAX_LISTED
    if rest > 0:
        message = (
            f"… and {rest:,} more channel(s) whose readings come at irregular times, so their "
            f"intervals could not be inferred (the first {MAX_LISTED} are listed)"
        )
        warnings.append(PreviewWarning(NOT_CHECKED, message, rest))
    return warnings


def _unchecked_rows(
    mapped: pd.DataFrame, order: np.ndarray[Any, Any], group: np.ndarray[Any, Any],
    gaps: SeriesGaps,
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], dict[tuple[str, str], int]]:  # fmt: skip
    """The rows of the channels `gaps` did not check, and each one's earliest row."""
    in_order = group[order]
    starts = np.flatnonzero(np.r_[True, in_order[1:] != in_order[:-1]])
    groups, first = in_order[starts], order[starts]
    source_ids = mapped["source_id"].to_numpy()[first]
    quantities = mapped["quantity"].to_numpy()[first]
    pairs = [(str(s), str(q)) for s, q in zip(source_ids, quantities, strict=True)]
    wanted = {gaps.channels[code] for code in gaps.unchecked.tolist()}
    hit = np.array([pair in wanted for pair in pairs], dtype=bool)
    is_unchecked = np.zeros(int(groups.max()) + 1, dtype=bool)
    is_unchecked[groups[hit]] = True
    first_rows = {pair: int(row) for pair, row, h in zip(pairs, first, hit, strict=True) if h}
    return is_unchecked[group], first_rows


def _mapped_mask(mapped: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.bool_]]:
    if "mapped" not in mapped.columns:
        return np.ones(len(mapped), dtype=bool)
    return np.asarray(mapped["mapped"].to_numpy(dtype=bool))


def _sorted_groups(mapped: pd.DataFrame) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Row order by (channel, time), and each row's channel number."""
    group = mapped.groupby(["source_id", "quantity"], sort=False, dropna=False).ngroup()
    group_arr = group.to_numpy(dtype="int64")
    times = mapped["time"].to_numpy(dtype="datetime64[ns]").astype("int64")
    order = np.lexsort((times, group_arr))
    return order, group_arr


def _gaps(
    mapped: pd.DataFrame, order: np.ndarray[Any, Any], group: np.ndarray[Any, Any]
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Rows preceded (in their channel) by more than one interval of nothing."""
    times = mapped["time"].to_numpy(dtype="datetime64[ns]").astype("int64")[order]
    interval = mapped["interval_s"].to_numpy(dtype="int64")[order] * 1_000_000_000
    same_series = np.zeros(len(order), dtype=bool)  # the row before is of the same series
    same_series[1:] = group[order][1:] == group[order][:-1]
    step = np.zeros(len(order), dtype="int64")
    step[1:] = times[1:] - times[:-1]
    gap_sorted = same_series & (interval > 0) & (step > interval)
    mask = np.zeros(len(order), dtype=bool)
    mask[order] = gap_sorted
    return mask


def _duplicates(mapped: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.bool_]]:
    keys = mapped[["source_id", "quantity", "time"]]
    return np.asarray(keys.duplicated(keep=False).to_numpy(dtype=bool))


def _spikes(
    mapped: pd.DataFrame,
    order: np.ndarray[Any, Any],
    group: np.ndarray[Any, Any],
    factor: float,
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Values `factor` times above both neighbours and the channel's typical level."""
    raw = mapped["value"].to_numpy(dtype="float64")
    typical = pd.Series(np.abs(raw)).groupby(group).transform("median").to_numpy()
    values, groups = raw[order], group[order]
    prev = np.full(len(values), np.nan)
    nxt = np.full(len(values), np.nan)
    same_prev = groups[1:] == groups[:-1]
    prev[1:] = np.where(same_prev, values[:-1], np.nan)
    nxt[:-1] = np.where(same_prev, values[1:], np.nan)
    local = np.fmax(np.abs(prev), np.abs(nxt))
    level = np.fmax(local, typical[order])
    level = np.where(level > 0, level, np.inf)
    hit_sorted = (values > factor * level) & ~np.isnan(local)
    mask = np.zeros(len(order), dtype=bool)
    mask[order] = hit_sorted
    return mask


def _row_warning(flag: Flag, mask: np.ndarray[Any, Any], mapped: pd.DataFrame) -> PreviewWarning:
    count = int(np.count_nonzero(mask))
    first = int(np.flatnonzero(mask)[0])
    sources = pd.unique(mapped["source_id"].to_numpy()[mask])
    named = ", ".join(str(s) for s in sources[:3]) + (" …" if len(sources) > 3 else "")
    messages = {
        Flag.GAP: f"{count} gap(s) in the readings of {named}: intervals are missing.",
        Flag.DUPLICATE: f"{count} readings share a source, quantity and time ({named}).",
        Flag.SPIKE: f"{count} unusually high value(s) in {named}: check them before sending.",
        Flag.NEGATIVE: f"{count} negative value(s) in {named}.",
        Flag.ESTIMATED: f"{count} estimated value(s) in {named}; they are sent marked estimated.",
        Flag.UNMAPPED: (
            f"{len(sources)} meter(s) not mapped to EnergyCAP yet ({named}): their readings go "
            "to the EnergyCAP meter with the same number as its import id, recorded the usual "
            "way for what they measure (Use in kWh for energy). “Map unmapped sources…” "
            "lets you choose."
        ),
    }
    source = str(sources[0]) if len(sources) == 1 else None
    return PreviewWarning(FLAG_LABELS[flag], messages[flag], count, first, source)


def _problem_warnings(problems: Sequence[Problem]) -> list[PreviewWarning]:
    warnings = []
    for problem in problems:
        if problem.kind is ProblemKind.HELD_BACK:
            kind = "held back"
        elif problem.kind is ProblemKind.BAD_VALUE:
            kind = "bad value"
        else:
            kind = "note"
        warnings.append(
            PreviewWarning(kind, problem.describe(), problem.count, None, problem.source_id)
        )
    return warnings
