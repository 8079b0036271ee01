"""Bucket boundaries of a Verdigris interval, and the requests that cover aligned windows.

``1m``, ``15m`` and ``1h`` buckets sit on multiples of their length since the
epoch (UTC). ``1d`` buckets run from one local midnight of the building to the
next, so a day is 23, 24 or 25 hours long around clock changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import SourceError

STEPS: dict[str, int] = {"1m": 60, "15m": 900, "1h": 3600, "1d": 86400}


@dataclass(frozen=True)
class Grid:
    """The boundaries of one interval's buckets."""

    name: str
    step_s: int
    zone: ZoneInfo | None = None  # local days (1d) only

    def floor(self, moment: datetime) -> datetime:
        """The boundary at or before `moment` (UTC)."""
        if self.zone is None:
            seconds = int(moment.astimezone(UTC).timestamp())
            return datetime.fromtimestamp(seconds - seconds % self.step_s, UTC)
        local = moment.astimezone(self.zone)
        return _midnight(local.year, local.month, local.day, self.zone)

    def ceil(self, moment: datetime) -> datetime:
        """The boundary at or after `moment`."""
        floor = self.floor(moment)
        return floor if floor == moment else self.add(floor, 1)

    def add(self, boundary: datetime, buckets: int) -> datetime:
        """The boundary `buckets` after (or before, if negative) `boundary`."""
        if self.zone is None:
            return boundary + timedelta(seconds=buckets * self.step_s)
        day = boundary.astimezone(self.zone).date() + timedelta(days=buckets)
        return _midnight(day.year, day.month, day.day, self.zone)

    def count(self, start: datetime, end: datetime) -> int:
        """Buckets between two boundaries."""
        if self.zone is None:
            return int((end - start).total_seconds()) // self.step_s
        return (end.astimezone(self.zone).date() - start.astimezone(self.zone).date()).days


def _midnight(year: int, month: int, day: int, zone: ZoneInfo) -> datetime:
    return datetime(year, month, day, tzinfo=zone).astimezone(UTC)


def make_grid(interval: str, zone: str = "") -> Grid:
    """The grid of an interval name; ``1d`` needs the building's IANA time zone.

    Raises:
        SourceError: unknown interval, or 1d without a known zone.
    """
    if interval not in STEPS:
        steps = ", ".join(STEPS)
        raise SourceError(f"interval {interval!r} is not supported; use one of {steps}")
    if interval != "1d":
        return Grid(interval, STEPS[interval])
    if not zone:
        raise SourceError("interval 1d follows the building's local days: give its time zone")
    try:
        return Grid(interval, STEPS[interval], ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(f"unknown time zone {zone!r} (use an IANA name)") from None


@dataclass(frozen=True)
class Request:
    """One data request: some ids of one level (circuit, breaker ...) over one aligned window."""

    kind: str  # energy | power
    level: str
    ids: tuple[str, ...]
    start: datetime
    end: datetime
