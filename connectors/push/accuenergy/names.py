"""Which meter an Accuenergy push is from, and what instant its file name gives.

One gateway (AcuHMI, AcuLink 810, WEB2) logs several meters and posts all of
them to one URL, so the meter is part of every source id. It comes from, in
order: the body (``device.serial``, else ``device.name``; a WEB2 module's
``sn``/``name``), the file name, the multipart form (``datasource`` =
``<serial>/<model>``, a "Meter ID" field), the device option ``meter``, or
the one meter the device has sent before; otherwise the push is refused with
a message saying how to fix it (never filed under a placeholder).

File names are parsed from the right, because the prefix is free text:
``meter0_logger1AHI2606080066-AcuRev2100-1782897000-1min.csv`` =
prefix ``meter0_logger1``, gateway ``AHI2606080066``, device ``AcuRev2100``,
UTC epoch ``1782897000``, file length ``1min``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from connectors.base import SourceError

NAME_TAIL = re.compile(r"-(?P<epoch>\d{9,13})-(?P<length>\d+\s*[A-Za-z]+)\.(?:csv|json|txt)$", re.I)
SERIAL_THEN_DEVICE = re.compile(
    r"^(?P<prefix>.*?)(?P<gateway>[A-Z][A-Z0-9]*\d{5,})-(?P<device>.+)$"
)
METER_FIELDS = ("meter_id", "meterid", "meter", "meter id", "meter_name", "device")
QUARTER_HOUR_S = 900
TOLERANCE_S = 60
MAX_ZONE_OFFSET_S = 26 * 3600  # UTC-12 … UTC+14, with a clock change to spare


@dataclass(frozen=True)
class FileName:
    """What a data-log file name says."""

    prefix: str
    gateway: str
    device: str
    epoch_s: int
    length: str

    @property
    def instant(self) -> datetime:
        """The file's UTC instant (epoch seconds; milliseconds above 1e11)."""
        seconds = self.epoch_s / 1000 if self.epoch_s >= 100_000_000_000 else self.epoch_s
        return datetime.fromtimestamp(seconds, UTC)


def parse_file_name(name: str) -> FileName | None:
    """``<prefix><gateway>-<device>-<epoch>-<length>.<ext>`` read from the right, or None.

    The gateway is the first serial-like token (capitals, then at least five
    digits: ``AHI2606080066``, ``S8P20200207``) followed by ``-``, so a device
    name may hold dashes; without one, the last ``-`` splits gateway and device.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    tail = NAME_TAIL.search(base)
    if tail is None:
        return None
    head = base[: tail.start()]
    serial = SERIAL_THEN_DEVICE.match(head)
    if serial is not None:
        prefix, gateway, device = serial["prefix"], serial["gateway"], serial["device"]
    else:
        rest, _, device = head.rpartition("-")
        gateway = re.split(r"[-_ .]", rest)[-1] if rest else ""
        prefix = rest[: len(rest) - len(gateway)]
    if not gateway or not device:
        return None
    return FileName(prefix, gateway, device, int(tail["epoch"]), tail["length"].strip())


def form_meter(form: Mapping[str, Any]) -> str | None:
    """The meter a multipart form names (a "Meter ID" field, else ``datasource``'s serial)."""
    if not form:
        return None
    fields = {_squash(str(k)): str(v).strip() for k, v in form.items()}
    for key in _SQUASHED_METER_FIELDS:
        if fields.get(key):
            return fields[key]
    source = fields.get("datasource", "")
    serial = source.split("/")[0].strip()
    return serial or None


_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]")


@functools.lru_cache(maxsize=256)
def _squash(key: str) -> str:
    return _NOT_ALPHANUMERIC.sub("", key.lower())


_SQUASHED_METER_FIELDS = tuple(_squash(key) for key in METER_FIELDS)


def resolve_meter(
    found: str | None, options: Mapping[str, Any], name: str
) -> tuple[str | None, str]:
    """The meter a push is filed under, with its gateway when only the past tells it.

    Args:
        found: what the body, file name or form said (None: nothing).
        options: device options: ``meter`` (set by the user), ``known_meters``
            (``<gateway>/<meter>`` keys the device sent before), ``device_name``.
        name: the file name (for the message).

    Raises:
        SourceError: when nothing names the meter and the device has sent
            more than one (or none yet), saying how to fix it.
    """
    if found:
        return None, found
    configured = str(options.get("meter") or "").strip()
    if configured:
        return None, configured
    meters = [str(m) for m in options.get("known_meters") or ()]
    if len(meters) == 1:
        gateway, _, meter = meters[0].rpartition("/")
        return gateway or None, meter
    device = str(options.get("device_name") or "NAME")
    seen = f"has sent {len(meters)} meters ({', '.join(meters[:5])})" if meters else "knows none"
    raise SourceError(
        "this push does not say which meter it is from (no file name like "
        "<prefix><gateway>-<meter>-<epoch>-<length>.csv, no device serial or name in the body, "
        f"no 'datasource' or 'Meter ID' form field) and device {device} {seen}: turn off "
        "'Post Name Fixed' on the gateway's post channel (or send the file name in "
        "Content-Disposition), or give each meter its own device URL and name it: "
        f"meterbridge device set {device} --set meter=<meter name>",
        file=name,
    )


def zone_offset(first_row_utc_ns: int, file_name: FileName) -> timedelta | None:
    """The clock offset between a row read as UTC and the file name's instant, or None.

    A difference within a minute of a whole, non-zero number of quarter hours
    (at most a day and two hours) is a zone difference; anything else is not one (None).
    """
    diff_s = first_row_utc_ns / 1e9 - file_name.instant.timestamp()
    quarters = round(diff_s / QUARTER_HOUR_S)
    if quarters == 0 or abs(diff_s - quarters * QUARTER_HOUR_S) > TOLERANCE_S:
        return None
    if abs(diff_s) > MAX_ZONE_OFFSET_S:
        return None
    return timedelta(seconds=quarters * QUARTER_HOUR_S)


def fixed_zone(offset: timedelta) -> timezone:
    """The fixed zone whose local time is UTC + `offset`."""
    return timezone(offset)


def zone_mismatch(
    raw_time: Any,
    read_ns: int,
    naive_ns: int,
    zone_name: str,
    file_name: FileName,
    device: str,
    name: str,
) -> SourceError:
    """The refusal for a first row whose time disagrees with the file name's instant.

    Args:
        raw_time: the first row's time as sent.
        read_ns: that time read in the device zone (UTC epoch ns).
        naive_ns: that time read as if it were UTC (gives the gateway clock's offset).
        zone_name: the device zone.
        file_name: the parsed file name.
        device: the registered device name (for the command in the message).
        name: the file name (for the message).
    """
    read = datetime.fromtimestamp(read_ns / 1e9, UTC)
    hours = (read - file_name.instant).total_seconds() / 3600
    offset_min = round((naive_ns / 1e9 - file_name.instant.timestamp()) / 60)
    sign = "+" if offset_min >= 0 else "-"
    label = f"UTC{sign}{abs(offset_min) // 60:02d}:{abs(offset_min) % 60:02d}"
    return SourceError(
        f"times disagree: the file name says {file_name.instant:%Y-%m-%dT%H:%M:%SZ} (UTC epoch "
        f"{file_name.epoch_s}) but the first row's time {str(raw_time)!r} read in the device "
        f"zone {zone_name} is {read:%Y-%m-%dT%H:%M:%SZ}, {abs(hours):g} h "
        f"{'later' if hours > 0 else 'earlier'}: the gateway's clock is at {label}. Set the "
        f"gateway's zone (meterbridge device set {device} --tz <a zone at {label} then>) or take "
        f"the times from the file name (meterbridge device set {device} --set "
        "zone_from_file_name=true)",
        file=name,
    )
