"""The fake EnergyCAP's time zone list: EnergyCAP's own integer ids, never obvious ones.

The ids start at 101 and are shuffled (fixed seed) so that a client that
hard-codes an id, or assumes the list's order, picks the wrong zone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class FakeTimeZone:
    """One entry of GET /api/v3/timezone, plus the IANA zone that gives it its rules."""

    time_zone_id: int
    code: str
    info: str
    iana: str
    gmt_offset: float
    dst: bool

    @property
    def zone(self) -> ZoneInfo:
        """The zoneinfo rules of this zone."""
        return ZoneInfo(self.iana)

    def as_json(self) -> dict[str, object]:
        """The TimeZoneResponse JSON object."""
        return {
            "timeZoneId": self.time_zone_id,
            "timeZoneCode": self.code,
            "timeZoneInfo": self.info,
            "gmtOffset": self.gmt_offset,
            "daylightSavingsObserved": self.dst,
        }

    def child(self) -> dict[str, object]:
        """The TimeZoneChild JSON object (as embedded in meters and profiles)."""
        return {
            "timeZoneId": self.time_zone_id,
            "timeZoneCode": self.code,
            "timeZoneInfo": self.info,
        }


_ZONES: tuple[tuple[str, str, str, float, bool], ...] = (
    ("Greenwich Standard Time", "(UTC+00:00) Monrovia, Reykjavik", "Atlantic/Reykjavik", 0, False),
    (
        "GMT Standard Time",
        "(UTC+00:00) Dublin, Edinburgh, Lisbon, London",
        "Europe/London",
        0,
        True,
    ),
    ("UTC", "(UTC) Coordinated Universal Time", "UTC", 0, False),
    (
        "Eastern Standard Time",
        "(UTC-05:00) Eastern Time (US & Canada)",
        "America/New_York",
        -5,
        True,
    ),
    (
        "Central Standard Time",
        "(UTC-06:00) Central Time (US & Canada)",
        "America/Chicago",
        -6,
        True,
    ),
    (
        "Mountain Standard Time",
        "(UTC-07:00) Mountain Time (US & Canada)",
        "America/Denver",
        -7,
        True,
    ),
    ("US Mountain Standard Time", "(UTC-07:00) Arizona", "America/Phoenix", -7, False),
    (
        "Pacific Standard Time",
        "(UTC-08:00) Pacific Time (US & Canada)",
        "America/Los_Angeles",
        -8,
        True,
    ),
    ("Alaskan Standard Time", "(UTC-09:00) Alaska", "America/Anchorage", -9, True),
    ("Hawaiian Standard Time", "(UTC-10:00) Hawaii", "Pacific/Honolulu", -10, False),
    ("Atlantic Standard Time", "(UTC-04:00) Atlantic Time (Canada)", "America/Halifax", -4, True),
    (
        "W. Europe Standard Time",
        "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
        "Europe/Berlin",
        1,
        True,
    ),
    (
        "Romance Standard Time",
        "(UTC+01:00) Brussels, Copenhagen, Madrid, Paris",
        "Europe/Paris",
        1,
        True,
    ),
    (
        "India Standard Time",
        "(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi",
        "Asia/Kolkata",
        5.5,
        False,
    ),
    ("Tokyo Standard Time", "(UTC+09:00) Osaka, Sapporo, Tokyo", "Asia/Tokyo", 9, False),
    (
        "AUS Eastern Standard Time",
        "(UTC+10:00) Canberra, Melbourne, Sydney",
        "Australia/Sydney",
        10,
        True,
    ),
)


def _build() -> tuple[FakeTimeZone, ...]:
    ids = random.Random(2407).sample(range(101, 101 + 3 * len(_ZONES)), len(_ZONES))
    return tuple(
        FakeTimeZone(ids[n], code, info, iana, float(offset), dst)
        for n, (code, info, iana, offset, dst) in enumerate(_ZONES)
    )


TIME_ZONES: tuple[FakeTimeZone, ...] = _build()


def zone_by_id(time_zone_id: int) -> FakeTimeZone | None:
    """The zone with EnergyCAP id `time_zone_id`, or None."""
    return next((z for z in TIME_ZONES if z.time_zone_id == time_zone_id), None)


def zone_by_name(name: str) -> FakeTimeZone:
    """The zone named by IANA name or EnergyCAP code (e.g. "Europe/London", "UTC").

    Raises:
        KeyError: when the fake has no such zone.
    """
    for zone in TIME_ZONES:
        if name in (zone.iana, zone.code):
            return zone
    raise KeyError(f"the fake EnergyCAP has no time zone {name!r}")
