"""Checking the time zone option of the generic connectors."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import SourceError


def check_zone(name: object, file: str) -> str | None:
    """The IANA zone name if given and known, None if not given.

    Raises:
        SourceError: for a zone name the system does not know.
    """
    if name is None or str(name).strip() == "":
        return None
    zone = str(name).strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(
            f"unknown time zone {zone!r}; use an IANA name such as Europe/London "
            "or America/New_York",
            file=file,
        ) from None
    return zone
