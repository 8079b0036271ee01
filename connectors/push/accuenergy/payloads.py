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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from connectors.base import SourceError
from connectors.push.accuenergy.csv_log import read_csv_table
from connectors.push.accuenergy.fields import Fields
from connectors.push.accuenergy.names import (
    FileName,
    fixed_zone,
    form_meter,
    parse_file_name,
    resolve_meter,
    zone_mismatch,
    zone_offset,
)
from connectors.push.common import (
    PointColumns,
    TimeParser,
    is_naive_text,
    load_json,
    quick_value,
    quick_values,
    slash_order_near,
)
from connectors.push.registers import is_register


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
        logs = _json_logs(text, name, Fields(options))
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


Classifier = Callable[[DeviceLog, Series], tuple[str, str] | None]


def emit(
    logs: list[DeviceLog], name: str, options: Mapping[str, Any], classify: Classifier
) -> PointColumns:
    """Readings of device logs; `classify` gives (source_id, quantity) or None to skip a series.

    Raises:
        SourceError: when no value can be read, or a log's times disagree with
            its file name (see module doc).
    """
    out = PointColumns()
    skipped: set[str] = set()
    for log in logs:
        parser = _time_parser(log, name, options)
        time_cache: dict[int, tuple[list[int | str], bool]] = {}
        for series in log.series:
            target = classify(log, series)
            if target is None:
                skipped.add(series.param)
                continue
            key = id(series.times)
            if key not in time_cache:
                times = parser.parse_all(series.times)
                time_cache[key] = times, not any(isinstance(t, str) for t in times)
            _emit_series(series, time_cache[key], target, name, log, out)
    out.info["skipped_params"] = sorted(skipped)
    out.info["meters"] = sorted({log.meter_key for log in logs})
    if not len(out) and out.problems:
        raise SourceError(f"no value could be read; first: {out.problems[0].describe()}", file=name)
    return out


def _emit_series(
    series: Series,
    parsed: tuple[list[int | str], bool],
    target: tuple[str, str],
    name: str,
    log: DeviceLog,
    out: PointColumns,
) -> None:
    """One parameter's readings into `out`: all at once when every time and value reads
    plainly (`quick_values`), else value by value, naming each one that cannot be read."""
    source_id, quantity = target
    times, times_read = parsed
    register = is_register(quantity)
    numbers = quick_values(series.values) if times_read else None
    if (
        numbers is not None
        and len(numbers) == len(times)
        and not (register and numbers and min(numbers) < 0)
    ):
        first = 1 if log.first_line is None else log.first_line  # a JSON value: its position
        prefix, suffix = f"{name}:", f":{series.param}"
        out.time_ns.extend(times)  # type: ignore[arg-type]  # all read (`times_read`)
        out.value.extend(numbers)
        out.origin.extend([f"{prefix}{n}{suffix}" for n in range(first, first + len(numbers))])
        kept = len(numbers)
    else:
        kept = _emit_one_by_one(series, times, register, name, log, out)
    unit = quantity.split("-")[0]
    out.source_id.extend([source_id] * kept)
    out.quantity.extend([quantity] * kept)
    out.unit.extend([unit or quantity] * kept)
    out.interval_s.extend([0] * kept)
    out.note.extend([None] * kept)


def _emit_one_by_one(
    series: Series,
    times: list[int | str],
    register: bool,
    name: str,
    log: DeviceLog,
    out: PointColumns,
) -> int:
    """A series' readable values into `out` (times, values, origins); how many were kept."""
    first_line, param = log.first_line, series.param
    add_time, add_value, add_origin = out.time_ns.append, out.value.append, out.origin.append
    kept = 0
    for row, (raw, time_ns) in enumerate(zip(series.values, times, strict=True)):
        line = None if first_line is None else first_line + row
        if isinstance(time_ns, str):
            out.bad(time_ns, name, "timestamp", series.times[row], line)
            continue
        try:
            number = quick_value(raw)
        except ValueError as exc:
            out.bad(str(exc), name, param, raw, line)
            continue
        if number is None:
            continue
        if number < 0 and register:
            out.bad("a cumulative register cannot be negative", name, param, raw, line)
            continue
        add_time(time_ns)
        add_value(number)
        add_origin(f"{name}:{line or row + 1}:{param}")
        kept += 1
    return kept


def _time_parser(log: DeviceLog, name: str, options: Mapping[str, Any]) -> TimeParser:
    """The log's time parser: the device zone, checked against the file name's instant."""
    encoding = options.get("time_encoding") or "auto"
    first = next((s.times[0] for s in log.series if s.times), None)
    instant = log.file_name.instant.timestamp() if log.file_name else None
    order = None if instant is None else slash_order_near(first, instant)  # the name proves it
    parser = TimeParser(options.get("tz") or "UTC", encoding, slash_order=order)
    if first is None or not is_naive_text(first):
        return parser
    device = str(options.get("device_name") or "NAME")
    if options.get("zone_from_file_name"):
        if log.file_name is None:
            raise SourceError(
                f"device {device} takes the zone from the file name, but this push has none "
                "with a UTC epoch (<prefix><gateway>-<meter>-<epoch>-<length>.csv): turn off "
                "'Post Name Fixed' or set the gateway's zone (meterbridge device set "
                f"{device} --tz <zone> --set zone_from_file_name=false)",
                file=name,
            )
        as_utc = TimeParser("UTC", encoding, slash_order=order).parse_all([first])[0]
        if isinstance(as_utc, str):
            return parser  # the bad time is named where it is read
        offset = round((as_utc / 1e9 - log.file_name.instant.timestamp()) / 900) * 900
        return TimeParser(fixed_zone(timedelta(seconds=offset)), encoding, slash_order=order)
    read = parser.parse_all([first])[0]
    if log.file_name is not None and isinstance(read, int) and zone_offset(read, log.file_name):
        naive = TimeParser("UTC", encoding, slash_order=order).parse_all([first])[0]
        naive_ns = naive if isinstance(naive, int) else read
        raise zone_mismatch(first, read, naive_ns, parser.zone_name, log.file_name, device, name)
    return parser
