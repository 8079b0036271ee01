"""EnergyCAP's own lists (meters, channels, observation types, units) for the mapping editor.

A whole account is read in a handful of requests: ``GET /api/v3/meter`` is
paged (``pageSize`` up to 1,000, ``pageNumber`` from 1; the answer's
``TotalPages`` and ``TotalNumberOfRecords`` headers say how many there are)
and lists each meter with its channels (``channelId``, ``channelCode``). The
channel code combines ``observationTypeCode:unitCode:observationMethodCode:
observationRuleCode:interval`` (minutes), so the type and unit come with the
list. A channel's import id is only in the per-meter channel list
(``GET /api/v202101/meter/{meterId}/channel``): `fetch_channels` reads it for
the meters the user opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

PAGE_SIZE = 1000  # EnergyCAP's largest page
METERS_PATH = "/api/v3/meter"

Progress = Callable[[int, str], None]


class CatalogClient(Protocol):
    """The part of `EnergyCapClient` the catalog needs."""

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any: ...
    def meter_channels(self, meter_id: int) -> list[dict[str, Any]]: ...
    def observation_types(self) -> list[dict[str, Any]]: ...
    def units(self) -> list[dict[str, Any]]: ...


class CatalogCancelled(Exception):
    """The user cancelled loading the lists."""


@dataclass(frozen=True)
class ChannelInfo:
    """One EnergyCAP channel as the mapping editor offers it.

    `detailed` is True once the per-meter channel list was read (it alone
    carries the channel's import id).
    """

    channel_id: int
    import_id: str | None
    observation_type: str | None
    unit: str | None
    interval_minutes: int | None
    code: str | None = None
    detailed: bool = True


@dataclass(frozen=True)
class MeterInfo:
    """One EnergyCAP meter and its channels."""

    meter_id: int
    code: str
    info: str
    import_id: str | None
    channels: tuple[ChannelInfo, ...] = ()


@dataclass
class EcapCatalog:
    """What EnergyCAP knows, to pick mapping targets from."""

    meters: list[MeterInfo] = field(default_factory=list)
    observation_types: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    requests: int = 0  # how many requests the lists took


def _channel(item: dict[str, Any]) -> ChannelInfo:
    """A channel from the per-meter channel list (with its import id)."""
    obs = item.get("observationType") or {}
    versions = item.get("channelVersions") or [{}]
    unit = (versions[-1].get("unit") or {}).get("unitCode")
    return ChannelInfo(
        channel_id=int(item["channelId"]),
        import_id=item.get("channelImportId"),
        observation_type=obs.get("observationTypeCode"),
        unit=unit,
        interval_minutes=item.get("intervalMinutes"),
    )


def channel_from_code(channel_id: int, code: str | None) -> ChannelInfo:
    """A channel from the meter list: type, unit and interval read from its channel code."""
    parts = (code or "").split(":")
    if len(parts) < 2:  # not the documented composition: nothing to read from it
        parts = ["", ""]
    minutes = parts[-1] if len(parts) >= 5 else ""
    return ChannelInfo(
        channel_id=channel_id,
        import_id=None,
        observation_type=parts[0] or None,
        unit=parts[1] or None,
        interval_minutes=int(minutes) if minutes.isdigit() else None,
        code=code,
        detailed=False,
    )


def _meter(item: dict[str, Any]) -> MeterInfo:
    channels = tuple(
        channel_from_code(int(c["channelId"]), c.get("channelCode"))
        for c in item.get("channels") or []
        if isinstance(c, dict) and c.get("channelId") is not None
    )
    return MeterInfo(
        meter_id=int(item["meterId"]),
        code=str(item.get("meterCode") or ""),
        info=str(item.get("meterInfo") or ""),
        import_id=item.get("meterImportId") or item.get("meterCode"),
        channels=channels,
    )


def fetch_meters(
    client: CatalogClient,
    *,
    page_size: int = PAGE_SIZE,
    progress: Progress = lambda _n, _m: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> tuple[list[MeterInfo], int]:
    """Every meter with its channels, a page at a time; returns (meters, requests made).

    Raises:
        CatalogCancelled: when `cancelled()` turns true between pages.
    """
    meters: list[MeterInfo] = []
    number, pages, made = 1, 1, 0
    while number <= pages:
        if cancelled():
            raise CatalogCancelled(f"cancelled after {len(meters)} meters")
        params = {"pageSize": page_size, "pageNumber": number}
        answer = client.request("GET", METERS_PATH, params=params)
        made += 1
        items = answer.json() or []
        meters += [_meter(i) for i in items if isinstance(i, dict)]
        pages = _header_int(answer, "TotalPages", pages)
        total = _header_int(answer, "TotalNumberOfRecords", len(meters))
        progress(len(meters), f"{len(meters):,} of {total:,} meters")
        if not items:
            break
        number += 1
    return meters, made


def _header_int(answer: Any, name: str, default: int) -> int:
    try:
        return int(answer.headers.get(name, default))
    except (TypeError, ValueError):
        return default


def fetch_catalog(
    client: CatalogClient,
    *,
    page_size: int = PAGE_SIZE,
    progress: Progress = lambda _n, _m: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> EcapCatalog:
    """Read the observation types, the units and every meter with its channels.

    Raises:
        CatalogCancelled: when `cancelled()` turns true (nothing is kept).
    """
    observation_types = sorted(str(o["observationTypeCode"]) for o in client.observation_types())
    units = sorted(str(u["unitCode"]) for u in client.units())
    meters, made = fetch_meters(client, page_size=page_size, progress=progress,
                                cancelled=cancelled)  # fmt: skip
    return EcapCatalog(meters, observation_types, units, requests=2 + made)


def fetch_channels(client: CatalogClient, meter_id: int) -> tuple[ChannelInfo, ...]:
    """The channels of one meter with their import ids (one request)."""
    return tuple(_channel(c) for c in client.meter_channels(int(meter_id)))


def with_channels(catalog: EcapCatalog, meter_id: int, channels: tuple[ChannelInfo, ...]) -> None:
    """Put a meter's detailed channels into `catalog` (in place)."""
    for number, meter in enumerate(catalog.meters):
        if meter.meter_id == meter_id:
            catalog.meters[number] = MeterInfo(
                meter.meter_id, meter.code, meter.info, meter.import_id, channels
            )
            return
