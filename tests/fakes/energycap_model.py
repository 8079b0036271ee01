"""The fake tenant: meters, channels, ESA channels, the readings store, channel resolution."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from tests.fakes.energycap_tz import FakeTimeZone, zone_by_name

# (channel_id, utc time, value) -> an error message, or None to accept the reading.
ReadingRule = Callable[[int, datetime, float], "str | None"]


@dataclass
class FakeChannel:
    """A classic EnergyCAP channel."""

    channel_id: int
    import_id: str | None = None
    observation_type: str = "Use"
    unit: str = "kWh"
    interval_s: int = 900


@dataclass
class FakeMeter:
    """A meter with its channels and time zone (IANA name or EnergyCAP code)."""

    meter_id: int
    import_id: str | None
    channels: list[FakeChannel] = field(default_factory=list)
    time_zone: str = "UTC"

    @property
    def zone(self) -> FakeTimeZone:
        """The meter's zone in the fake's time zone list."""
        return zone_by_name(self.time_zone)


@dataclass
class FakeEsaChannel:
    """An ESA (Smart Analytics) channel, reached by id, import id or data point import id."""

    esa_channel_id: int
    import_id: str | None = None
    data_point_import_id: str | None = None
    observation_type: str = "Use"
    unit: str = "kWh"
    interval_minutes: int = 15


@dataclass(frozen=True)
class Target:
    """Where a ReadingCreate / EsaReadingCreate / import row points (API-neutral)."""

    channel_id: int | None = None
    channel_import_id: str | None = None
    parent_import_id: str | None = None  # meterImportId or dataPointImportId
    observation_type: str | None = None
    unit: str | None = None
    interval_s: int | None = None


class ResolveError(LookupError):
    """The target does not name exactly one channel."""


@dataclass(slots=True)
class Reading:
    """One stored reading."""

    value: float
    estimated: bool
    note: str | None


class Tenant:
    """Thread-safe state of the fake tenant."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.meters: dict[int, FakeMeter] = {}
        self.esa_channels: dict[int, FakeEsaChannel] = {}
        self.store: dict[int, dict[datetime, Reading]] = {}
        self.unknown_meter_policy = "fail"
        self.reject_values_above: float | None = None
        self.reject_reading: ReadingRule | None = None

    # -- set-up ---------------------------------------------------------------------------
    def add_meter(self, meter: FakeMeter) -> FakeMeter:
        """Add a meter; channel ids must be unique across meters and ESA channels."""
        zone_by_name(meter.time_zone)
        with self.lock:
            for channel in meter.channels:
                self._check_free(channel.channel_id)
            self.meters[meter.meter_id] = meter
        return meter

    def add_esa_channel(self, channel: FakeEsaChannel) -> FakeEsaChannel:
        """Add an ESA channel (its id shares the readings store with classic channels)."""
        with self.lock:
            self._check_free(channel.esa_channel_id)
            self.esa_channels[channel.esa_channel_id] = channel
        return channel

    def _check_free(self, channel_id: int) -> None:
        if self.channel(channel_id) is not None or channel_id in self.esa_channels:
            raise ValueError(f"channel id {channel_id} is already used in the fake")

    def next_channel_id(self) -> int:
        """A channel id not used yet."""
        used = [c.channel_id for m in self.meters.values() for c in m.channels]
        return max([1000, *used, *self.esa_channels]) + 1

    # -- look-ups -------------------------------------------------------------------------
    def channel(self, channel_id: int) -> FakeChannel | None:
        """The classic channel with this id."""
        return next(
            (c for m in self.meters.values() for c in m.channels if c.channel_id == channel_id),
            None,
        )

    def meter_of(self, channel_id: int) -> FakeMeter | None:
        """The meter that holds a classic channel."""
        return next(
            (
                m
                for m in self.meters.values()
                if any(c.channel_id == channel_id for c in m.channels)
            ),
            None,
        )

    def meter_by_import_id(self, import_id: str) -> FakeMeter | None:
        """The meter with this import id."""
        return next((m for m in self.meters.values() if m.import_id == import_id), None)

    # -- channel resolution (the documented cascade) ---------------------------------------
    def resolve(self, target: Target, *, auto_create: bool = False) -> FakeChannel:
        """The classic channel a ReadingCreate or import row points to.

        Raises:
            ResolveError: with EnergyCAP-like wording when no single channel is found.
        """
        with self.lock:
            if target.channel_id is not None:
                found = self.channel(target.channel_id)
                if found is None:
                    raise ResolveError(f"Channel with channelId {target.channel_id} not found")
                return found
            if target.channel_import_id is not None:
                for meter in self.meters.values():
                    for channel in meter.channels:
                        if channel.import_id == target.channel_import_id:
                            return channel
                raise ResolveError(
                    f"Channel with channelImportId '{target.channel_import_id}' not found"
                )
            return self._resolve_on_meter(target, auto_create)

    def _resolve_on_meter(self, target: Target, auto_create: bool) -> FakeChannel:
        if target.parent_import_id is None:
            raise ResolveError("No channelId, channelImportId or meterImportId given")
        meter = self.meter_by_import_id(target.parent_import_id)
        if meter is None and self.unknown_meter_policy == "autocreate":
            meter_id = max([0, *self.meters]) + 1
            meter = self.add_meter(FakeMeter(meter_id, target.parent_import_id))
            auto_create = True
        if meter is None:
            raise ResolveError(f"Meter with meterImportId '{target.parent_import_id}' not found")
        if auto_create:
            return self._match_or_create(meter, target)
        return cascade(meter.channels, target, f"meter '{meter.import_id}'")

    def _match_or_create(self, meter: FakeMeter, target: Target) -> FakeChannel:
        def same(c: FakeChannel) -> bool:
            return (c.observation_type, c.unit) == (target.observation_type, target.unit) and (
                target.interval_s is None or c.interval_s == target.interval_s
            )

        matches = [c for c in meter.channels if same(c)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ResolveError(f"Several channels on meter '{meter.import_id}' match")
        if not (target.observation_type and target.unit and target.interval_s):
            raise ResolveError("Cannot create a channel without observation type, unit, interval")
        channel = FakeChannel(
            self.next_channel_id(), None, target.observation_type, target.unit, target.interval_s
        )
        meter.channels.append(channel)
        return channel

    def resolve_esa(self, target: Target) -> FakeEsaChannel:
        """The ESA channel an EsaReadingCreate points to (same cascade, ESA identifiers).

        Raises:
            ResolveError: when no single ESA channel is found.
        """
        with self.lock:
            channels = list(self.esa_channels.values())
            if target.channel_id is not None:
                if target.channel_id not in self.esa_channels:
                    raise ResolveError(
                        f"ESA channel with esaChannelId {target.channel_id} not found"
                    )
                return self.esa_channels[target.channel_id]
            if target.channel_import_id is not None:
                for esa in channels:
                    if esa.import_id == target.channel_import_id:
                        return esa
                raise ResolveError(
                    f"ESA channel with esaChannelImportId '{target.channel_import_id}' not found"
                )
            if target.parent_import_id is None:
                raise ResolveError("No esaChannelId, esaChannelImportId or dataPointImportId given")
            on_point = [c for c in channels if c.data_point_import_id == target.parent_import_id]
            if not on_point:
                raise ResolveError(
                    f"Data point with dataPointImportId '{target.parent_import_id}' not found"
                )
            return cascade(on_point, target, f"data point '{target.parent_import_id}'")

    # -- readings ---------------------------------------------------------------------------
    def rejection(self, channel_id: int, time: datetime, value: float) -> str | None:
        """Why a reading would be refused (configured by the test), or None."""
        limit = self.reject_values_above
        if limit is not None and value > limit:
            return f"Reading value {value} is greater than the maximum allowed {limit}"
        return self.reject_reading(channel_id, time, value) if self.reject_reading else None

    def store_reading(self, channel_id: int, time: datetime, reading: Reading) -> None:
        """Store (or overwrite) the reading of a channel at a UTC instant."""
        self.store_readings(channel_id, [(time, reading)])

    def store_readings(self, channel_id: int, readings: list[tuple[datetime, Reading]]) -> None:
        """Store (or overwrite) readings of a channel at UTC instants, in order."""
        with self.lock:
            by_time = self.store.setdefault(channel_id, {})
            for time, reading in readings:
                by_time[time.astimezone(UTC)] = reading

    def frame(self, channel_id: int | None = None) -> pd.DataFrame:
        """All readings, or one channel's, as a frame sorted by channel and time."""
        with self.lock:
            rows = [
                (cid, t, r.value, r.estimated, r.note)
                for cid, by_time in self.store.items()
                if channel_id is None or cid == channel_id
                for t, r in by_time.items()
            ]
        rows.sort(key=lambda row: (row[0], row[1]))
        columns = list(zip(*rows, strict=True)) or [(), (), (), (), ()]
        return pd.DataFrame(
            {
                "channel_id": pd.Series(columns[0], dtype="int64"),
                "time": pd.to_datetime(pd.Series(columns[1], dtype=object), utc=True).astype(
                    "datetime64[ns, UTC]"
                ),
                "value": pd.Series(columns[2], dtype="float64"),
                "estimated": pd.Series(columns[3], dtype="bool"),
                "note": pd.Series(columns[4], dtype=object),
            }
        )


def cascade(channels: list[Any], target: Target, where: str) -> Any:
    """Narrow `channels` by observation type, then unit, then interval until one is left.

    Raises:
        ResolveError: when none or several remain.
    """
    if len(channels) == 1:
        return channels[0]
    steps: list[tuple[str, Any, Callable[[Any], Any]]] = [
        ("observationTypeCode", target.observation_type, lambda c: c.observation_type),
        ("unitCode", target.unit, lambda c: c.unit),
        ("interval", target.interval_s, _interval_s),
    ]
    left = channels
    for name, wanted, attribute in steps:
        if wanted is None:
            continue
        left = [c for c in left if attribute(c) == wanted]
        if len(left) == 1:
            return left[0]
        if not left:
            raise ResolveError(f"No channel on {where} matches {name} {wanted!r}")
    raise ResolveError(
        f"Cannot determine the channel on {where}: {len(left)} channels match "
        "(give observationTypeCode, unitCode and interval)"
    )


def _interval_s(channel: Any) -> int:
    if isinstance(channel, FakeEsaChannel):
        return channel.interval_minutes * 60
    return int(channel.interval_s)
