"""EnergyCAP's own lists (meters, channels, observation types, units) for the mapping editor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class CatalogClient(Protocol):
    """The part of `EnergyCapClient` the catalog needs."""

    def meters(self) -> list[dict[str, Any]]: ...
    def meter_channels(self, meter_id: int) -> list[dict[str, Any]]: ...
    def observation_types(self) -> list[dict[str, Any]]: ...
    def units(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ChannelInfo:
    """One EnergyCAP channel as the mapping editor offers it."""

    channel_id: int
    import_id: str | None
    observation_type: str | None
    unit: str | None
    interval_minutes: int | None


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


def _channel(item: dict[str, Any]) -> ChannelInfo:
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


def fetch_catalog(
    client: CatalogClient,
    *,
    max_meters: int = 500,
    cancelled: Callable[[], bool] = lambda: False,
) -> EcapCatalog:
    """Read meters (with their channels), observation types and units.

    Stops early, keeping what it has, when `cancelled()` turns true.
    """
    catalog = EcapCatalog(
        observation_types=sorted(str(o["observationTypeCode"]) for o in client.observation_types()),
        units=sorted(str(u["unitCode"]) for u in client.units()),
    )
    for meter in client.meters()[:max_meters]:
        if cancelled():
            break
        channels = tuple(_channel(c) for c in client.meter_channels(int(meter["meterId"])))
        catalog.meters.append(
            MeterInfo(
                meter_id=int(meter["meterId"]),
                code=str(meter.get("meterCode") or ""),
                info=str(meter.get("meterInfo") or ""),
                import_id=meter.get("meterImportId") or meter.get("meterCode"),
                channels=channels,
            )
        )
    return catalog
