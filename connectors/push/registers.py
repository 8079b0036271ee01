"""Cumulative energy registers → interval use, by differencing (pure functions).

Readers mark a cumulative register reading with the quantity
``<quantity>-register`` (e.g. ``kWh-register``) and its raw value. The app
core keeps the register series of each source durably and derives interval
use from the sorted series with `difference`, so late, duplicate and
out-of-order batches give the same result as in-order ones.

Rules (documented in docs/reference/push.md):
- The later reading's time ends the interval; `interval_s` is the gap.
- The first reading of a series only starts it (no use is derived).
- A drop is a reset or rollover, never negative use: with the ``from_zero``
  rule (default) the use is the later value (the register restarted at zero),
  flagged as estimated with a note; with ``skip`` no reading is derived for
  that interval and it is reported. A drop to a negative value (a register
  cannot be negative; readers name such values as bad) derives nothing
  either way: no negative use is ever derived from a "reset".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

REGISTER_SUFFIX = "-register"
RESET_NOTE = "register reset: use counted from zero"
RESET_RULES = ("from_zero", "skip")


def register_quantity(quantity: str) -> str:
    """The marker quantity of a cumulative register of `quantity` (``kWh-register``)."""
    return quantity + REGISTER_SUFFIX


def is_register(quantity: str) -> bool:
    """Whether `quantity` marks cumulative register values."""
    return quantity.endswith(REGISTER_SUFFIX)


def base_quantity(quantity: str) -> str:
    """The quantity a register's differences are in (``kWh-register`` → ``kWh``)."""
    return quantity[: -len(REGISTER_SUFFIX)] if is_register(quantity) else quantity


@dataclass
class Intervals:
    """Interval use derived from a register series (parallel arrays)."""

    end_ns: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="int64"))
    interval_s: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="int64"))
    use: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="float64"))
    reset: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    skipped_ns: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.use)

    def subset(self, keep: np.ndarray) -> Intervals:
        """The intervals where `keep` is True."""
        return Intervals(
            self.end_ns[keep], self.interval_s[keep], self.use[keep], self.reset[keep], []
        )


def difference(
    times_ns: np.ndarray, values: np.ndarray, *, reset_rule: str = "from_zero"
) -> Intervals:
    """Interval use between consecutive register readings.

    Args:
        times_ns: UTC epoch nanoseconds, strictly increasing (one value per time).
        values: the register value at each time.
        reset_rule: ``from_zero`` or ``skip`` (what a drop means; see module doc).

    Returns:
        One interval per consecutive pair, ending at the later time.
    """
    if reset_rule not in RESET_RULES:
        raise ValueError(f"unknown reset rule {reset_rule!r}; use one of {RESET_RULES}")
    times = np.asarray(times_ns, dtype="int64")
    vals = np.asarray(values, dtype="float64")
    if len(times) < 2:
        return Intervals()
    if np.any(np.diff(times) <= 0):
        raise ValueError("register times must be strictly increasing")
    use = np.diff(vals)
    reset = use < 0
    use = np.where(reset, vals[1:], use)
    ends = times[1:]
    gaps = (np.diff(times) // 1_000_000_000).astype("int64")
    drop = reset & (use < 0) if reset_rule == "from_zero" else reset
    if drop.any():
        keep = ~drop
        skipped = [int(t) for t in ends[drop]]
        return Intervals(ends[keep], gaps[keep], np.round(use[keep], 9), reset[keep], skipped)
    return Intervals(ends, gaps, np.round(use, 9), reset)


def affected_window(series_ns: np.ndarray, batch_ns: np.ndarray) -> tuple[int, int]:
    """Index range [lo, hi) of the stored series whose intervals a batch touches.

    A batch point at time t touches the interval ending at t and the interval
    ending at the next stored point, so the window runs from the point before
    the batch's first time to the point after its last.

    Args:
        series_ns: the stored series' times, sorted.
        batch_ns: the times the batch brought (any order).
    """
    if len(batch_ns) == 0 or len(series_ns) == 0:
        return 0, 0
    first = int(np.min(batch_ns))
    last = int(np.max(batch_ns))
    lo = int(np.searchsorted(series_ns, first, side="left"))
    hi = int(np.searchsorted(series_ns, last, side="right"))
    return max(lo - 1, 0), min(hi + 1, len(series_ns))


def splits(series_before_ns: np.ndarray, new_ns: np.ndarray) -> list[tuple[int, int, int]]:
    """Late points that fall strictly inside an interval already derivable before.

    Returns:
        ``(new_time, interval_start, interval_end)`` for each new time that has
        both an earlier and a later stored neighbour in `series_before_ns`.
    """
    found: list[tuple[int, int, int]] = []
    if len(series_before_ns) < 2:
        return found
    for t in np.asarray(new_ns, dtype="int64"):
        i = int(np.searchsorted(series_before_ns, t, side="left"))
        if 0 < i < len(series_before_ns) and series_before_ns[i] != t:
            found.append((int(t), int(series_before_ns[i - 1]), int(series_before_ns[i])))
    return found


def interval_readings(
    source_id: str, quantity: str, intervals: Intervals, origins: list[str | None]
) -> Any:
    """Derived intervals as readings (reading schema) of the register's base quantity.

    Args:
        source_id: the register's source id.
        quantity: the register's marker quantity (``kWh-register``).
        intervals: what `difference` derived (resets flagged estimated, with a note).
        origins: the origin of each interval's end reading.
    """
    import pandas as pd

    from connectors.base import conform

    unit = base_quantity(quantity)
    return conform(
        pd.DataFrame(
            {
                "source_id": source_id,
                "quantity": unit,
                "unit": unit,
                "time": pd.to_datetime(intervals.end_ns, utc=True),
                "interval_s": intervals.interval_s,
                "value": intervals.use,
                "estimated": intervals.reset,
                "note": [RESET_NOTE if r else None for r in intervals.reset],
                "origin": origins,
            }
        )
    )


def difference_frame(
    frame: Any, *, reset_rule: str = "from_zero", raw_sources: frozenset[str] = frozenset()
) -> Any:
    """Readings with every register series of one file turned into interval use.

    For files read on their own (drag-and-drop, `convert`/`send`): the first
    reading of each series in the file only starts it. The push listener
    instead differences over the durable stored series (app.core.sources.register_store).

    Args:
        frame: readings (reading schema), possibly with ``…-register`` quantities.
        reset_rule: what a drop means (see `difference`).
        raw_sources: source ids whose register values stay as they are.
    """
    import pandas as pd

    from connectors.base import conform

    mask = frame["quantity"].astype(str).map(is_register).to_numpy(dtype=bool)
    if raw_sources:
        mask = mask & ~frame["source_id"].isin(list(raw_sources)).to_numpy(dtype=bool)
    if not mask.any():
        return frame
    parts = [frame[~mask]]
    for (source_id, quantity), rows in frame[mask].groupby(["source_id", "quantity"], sort=False):
        series = rows.drop_duplicates("time", keep="last").sort_values("time")
        times = series["time"].astype("int64").to_numpy()
        result = difference(times, series["value"].to_numpy(), reset_rule=reset_rule)
        origins = dict(zip(times.tolist(), series["origin"].tolist(), strict=True))
        ends = [origins.get(int(t)) for t in result.end_ns]
        parts.append(interval_readings(str(source_id), str(quantity), result, ends))
    return conform(pd.concat([p for p in parts if len(p)] or [frame[~mask]], ignore_index=True))
