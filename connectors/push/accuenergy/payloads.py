"""Accuenergy payloads shared by the AcuLink 810 and AcuRev 2100 readers.

Recognised bodies (see ../shared/reference/sources.md §2–3):
    snapshot   ``timestamp`` scalar, ``gateway{name, model, serial}``,
               ``device{name, model, serial, online, readings:[{param, value, unit}]}``
    data log   ``timestamp`` array; ``device.readings[].value`` arrays aligned with it
    WEB2       ``comm_head{model, sn}``, ``modules[{name, model, sn, online, reading:[...]}]``
    CSV        timestamp first, then one column per parameter key; maybe a BOM;
               maybe no header (then the device's ``columns`` option names them)

Every key name is a per-device option with the documented name as default
(`FIELD_DEFAULTS`; a dotted path, or a list of them where the first present
wins), because the payload schemas are not published and firmware differs.
`nan`, `-nan`, `----` and empty values are missing. Times: epoch seconds (or
ms), ISO-8601, or local time in the device zone (option ``tz``, default UTC;
option ``time_encoding`` fixes one encoding). When the file name carries a
UTC epoch, the first row's local time must agree with it: a whole number of
quarter hours apart means the device zone is wrong, and the push is refused
naming both times, unless option ``zone_from_file_name`` takes the zone
from the name. The meter of every log is resolved by
`connectors.push.accuenergy.names` (body, file name, form, ``meter``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import SourceError
from connectors.push.accuenergy.csv_log import read_csv_table
from connectors.push.accuenergy.fields import Fields, fields_for
from connectors.push.accuenergy.names import FileName, form_meter, parse_file_name, resolve_meter
from connectors.push.common import load_json


@dataclass
class Series:
    """One parameter's values, aligned with raw times."""

    param: str
    unit: str
    times: list[Any]
    values: list[Any]


@dataclass
class DeviceLog:
    """What one message or file says about one device."""

    gateway_serial: str | None = None
    device_serial: str | None = None
    device_name: str | None = None
    model: str | None = None
    series: list[Series] = field(default_factory=list)
    first_line: int | None = None  # CSV: physical line of the first data row (JSON: no lines)
    meter: str = ""  # resolved by `parse_logs`: the meter every source id names
    file_name: FileName | None = None

    @property
    def meter_key(self) -> str:
        """``<gateway>/<meter>``: the part of the source id that says which meter."""
        return f"{self.gateway_serial}/{self.meter}"


def parse_logs(data: bytes, name: str, options: Mapping[str, Any]) -> list[DeviceLog]:
    """Every device log in an Accuenergy body (JSON message/file or data-log CSV).

    Each log's gateway and meter are resolved (body, file name, form, options).

    Raises:
        SourceError: when the body is none of the recognised shapes, or does
            not say which meter it is from (see `resolve_meter`).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"body is not UTF-8 text (byte {exc.start})", file=name) from None
    if text.lstrip().startswith(("{", "[")):
        logs = _json_logs(text, name, fields_for(options))
    else:
        logs = [_csv_log(text, name, options)]
    file_name = parse_file_name(name)
    form = form_meter(dict(options.get("form") or {}))
    registered = str(options.get("device_name") or "gateway")
    for log in logs:
        log.file_name = file_name
        body = log.device_serial or log.device_name
        named = file_name.device if file_name else None
        gateway, meter = resolve_meter(body or named or form or log.model, options, name)
        log.meter = meter
        named_gateway = file_name.gateway if file_name else None
        log.gateway_serial = log.gateway_serial or named_gateway or gateway or registered
    return logs


def _json_logs(text: str, name: str, fields: Fields) -> list[DeviceLog]:
    document = load_json(text, name)
    messages = document if isinstance(document, list) else [document]
    logs: list[DeviceLog] = []
    for message in messages:
        if not isinstance(message, dict):
            raise SourceError("JSON message is not an object", file=name)
        logs.extend(_message_logs(message, name, fields))
    return logs


def _message_logs(message: dict[str, Any], name: str, fields: Fields) -> list[DeviceLog]:
    stamp = fields.get(message, "timestamp_path")
    gateway = _text(fields.get(message, "gateway_serial_path"))
    modules = fields.get(message, "modules_path")
    if isinstance(modules, list):
        return [_device_log(gateway, m, stamp, name, fields) for m in modules]
    device = fields.get(message, "device_path")
    top = fields.get(message, "readings_path")
    if isinstance(top, list) and not isinstance(fields.get(device, "readings_path"), list):
        # AXM-WEB2 summary shape: the readings sit beside the device, at the top level.
        device = {**(device if isinstance(device, dict) else {}), "readings": top}
        fields = fields.with_readings_at("readings")
    if isinstance(device, dict):
        return [_device_log(gateway, device, stamp, name, fields)]
    raise SourceError(
        f"not an Accuenergy message: expected {fields.names('device_path')} (snapshot / data "
        f"log) or {fields.names('modules_path')} (WEB2); keys found: {_keys(message)} "
        "(device options device_path / modules_path name other keys)",
        file=name,
    )


def _keys(node: dict[str, Any]) -> str:
    return ", ".join(list(node)[:12]) or "none"


def _device_log(
    gateway: str | None, device: Any, stamp: Any, name: str, fields: Fields
) -> DeviceLog:
    if not isinstance(device, dict):
        raise SourceError("a device/module entry is not an object", file=name)
    readings = fields.get(device, "readings_path")
    label = fields.get(device, "device_name_path") or fields.get(device, "device_serial_path")
    if not isinstance(readings, list):
        raise SourceError(
            f"device {label or '?'} has no readings array ({fields.names('readings_path')}; "
            f"keys found: {_keys(device)})",
            file=name,
        )
    if stamp is None:
        raise SourceError(f"message has no timestamp ({fields.names('timestamp_path')})", file=name)
    times = stamp if isinstance(stamp, list) else [stamp]
    log = DeviceLog(
        gateway_serial=gateway,
        device_serial=_text(fields.get(device, "device_serial_path")),
        device_name=_text(fields.get(device, "device_name_path")),
        model=_text(fields.get(device, "model_path")),
    )
    for index, item in enumerate(readings):
        log.series.append(_series(item, times, index, name, fields))
    return log


def _series(item: Any, times: list[Any], index: int, name: str, fields: Fields) -> Series:
    param = _text(fields.get(item, "param_path"))
    if param is None:
        keys = _keys(item) if isinstance(item, dict) else type(item).__name__
        raise SourceError(
            f"readings[{index}] has no {fields.names('param_path')} (keys found: {keys})",
            file=name,
        )
    value = fields.get(item, "value_path")
    values = value if isinstance(value, list) else [value]
    if len(values) != len(times):
        raise SourceError(
            f"readings[{index}] ({param}): {len(values)} values for {len(times)} timestamps",
            file=name,
        )
    return Series(param, str(fields.get(item, "unit_path") or ""), times, values)


def _text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _csv_log(text: str, name: str, options: Mapping[str, Any]) -> DeviceLog:
    table = read_csv_table(text, name, options)
    log = DeviceLog(first_line=table.first_line)
    log.series = [Series(key, "", table.times, cells) for key, cells in table.columns]
    return log
