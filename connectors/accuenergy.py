"""Accuenergy payloads shared by the AcuLink 810 and AcuRev 2100 readers.

Recognised bodies (see ../shared/reference/sources.md §2–3):
    snapshot   ``timestamp`` scalar, ``gateway{name, model, serial}``,
               ``device{name, model, serial, online, readings:[{param, value, unit}]}``
    data log   ``timestamp`` array; ``device.readings[].value`` arrays aligned with it
    WEB2       ``comm_head{model, sn}``, ``modules[{name, model, sn, online, reading:[...]}]``
    CSV        timestamp first, then one column per parameter key; maybe a BOM;
               maybe no header (then the device's ``columns`` option names them)

`nan`, `-nan`, `----` and empty values are missing. Times: epoch seconds (or
ms), ISO-8601, or local time in the device zone (option ``tz``, default UTC).
File names like ``Logger1-AHI260110088-AcuRev2100-1778653500-15min.csv``
give the gateway serial and device; the multipart text field
``datasource=<serial>/<model>`` (option ``form``) is used when the body has none.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import SourceError
from connectors.push_common import PointColumns, TimeParser, parse_value

FILE_NAME = re.compile(
    r"^(?P<prefix>[^-]+)-(?P<gateway>[^-]+)-(?P<device>[^-]+)-(?P<epoch>\d{9,13})-(?P<length>[^.]+)"
    r"\.(?:csv|json|txt)$",
    re.IGNORECASE,
)
TIME_HEADERS = frozenset({"timestamp", "time", "datetime", "date", "ts", "date time"})


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

    kind: str
    gateway_serial: str | None = None
    device_serial: str | None = None
    device_name: str | None = None
    model: str | None = None
    series: list[Series] = field(default_factory=list)
    first_line: int = 1  # CSV: physical line of the first data row


def parse_logs(data: bytes, name: str, options: Mapping[str, Any]) -> list[DeviceLog]:
    """Every device log in an Accuenergy body (JSON message/file or data-log CSV).

    Raises:
        SourceError: when the body is none of the recognised shapes.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"body is not UTF-8 text (byte {exc.start})", file=name) from None
    if text.lstrip().startswith(("{", "[")):
        logs = _json_logs(text, name)
    else:
        logs = [_csv_log(text, name, options)]
    hints = _identity_hints(name, options)
    for log in logs:
        log.gateway_serial = log.gateway_serial or hints.get("gateway")
        log.device_name = log.device_name or hints.get("device")
    return logs


def _identity_hints(name: str, options: Mapping[str, Any]) -> dict[str, str]:
    hints: dict[str, str] = {}
    source = str(dict(options.get("form") or {}).get("datasource") or "")
    if source:
        hints["gateway"] = source.split("/")[0].strip()
    match = FILE_NAME.match(name.rsplit("/", 1)[-1])
    if match:
        hints["gateway"] = match["gateway"]
        hints["device"] = match["device"]
    return {k: v for k, v in hints.items() if v}


def _json_logs(text: str, name: str) -> list[DeviceLog]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", file=name
        ) from None
    messages = document if isinstance(document, list) else [document]
    logs: list[DeviceLog] = []
    for message in messages:
        if not isinstance(message, dict):
            raise SourceError("JSON message is not an object", file=name)
        logs.extend(_message_logs(message, name))
    return logs


def _message_logs(message: dict[str, Any], name: str) -> list[DeviceLog]:
    stamp = message.get("timestamp", message.get("time"))
    if isinstance(message.get("modules"), list):
        head = message.get("comm_head") or {}
        gateway = _text(head.get("sn")) if isinstance(head, dict) else None
        return [_device_log("web2", gateway, m, stamp, name) for m in message["modules"]]
    device = message.get("device")
    if isinstance(device, dict):
        gateway_info = message.get("gateway") or {}
        gateway = _text(gateway_info.get("serial")) if isinstance(gateway_info, dict) else None
        kind = "datalog" if isinstance(stamp, list) else "snapshot"
        return [_device_log(kind, gateway, device, stamp, name)]
    keys = ", ".join(list(message)[:12]) or "none"
    raise SourceError(
        "not an Accuenergy message: expected 'device' (snapshot / data log) or 'modules' "
        f"(WEB2); keys found: {keys}",
        file=name,
    )


def _device_log(kind: str, gateway: str | None, device: Any, stamp: Any, name: str) -> DeviceLog:
    if not isinstance(device, dict):
        raise SourceError("a device/module entry is not an object", file=name)
    readings = device.get("readings", device.get("reading"))
    if not isinstance(readings, list):
        raise SourceError(
            f"device {device.get('name') or device.get('serial') or '?'} has no readings array",
            file=name,
        )
    if stamp is None:
        raise SourceError("message has no timestamp", file=name)
    times = stamp if isinstance(stamp, list) else [stamp]
    log = DeviceLog(
        kind=kind,
        gateway_serial=gateway,
        device_serial=_text(device.get("serial", device.get("sn"))),
        device_name=_text(device.get("name")),
        model=_text(device.get("model")),
    )
    for index, item in enumerate(readings):
        log.series.append(_series(item, times, index, name))
    return log


def _series(item: Any, times: list[Any], index: int, name: str) -> Series:
    if not isinstance(item, dict) or not item.get("param"):
        raise SourceError(f"readings[{index}] has no 'param'", file=name)
    value = item.get("value")
    values = value if isinstance(value, list) else [value]
    if len(values) != len(times):
        raise SourceError(
            f"readings[{index}] ({item['param']}): {len(values)} values "
            f"for {len(times)} timestamps",
            file=name,
        )
    return Series(str(item["param"]), str(item.get("unit") or ""), times, values)


def _text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _csv_log(text: str, name: str, options: Mapping[str, Any]) -> DeviceLog:
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise SourceError("file is empty", file=name)
    if rows[0][0].lstrip().startswith("<"):
        raise SourceError("body looks like HTML/XML, not a data-log CSV", file=name)
    first = rows[0][0].strip()
    has_header = not _looks_like_time(first)
    if has_header:
        keys = [c.strip() for c in rows[0][1:]]
        body, first_line = rows[1:], 2
        if not any(keys) or (body and not _looks_like_time(body[0][0].strip())):
            raise SourceError(
                "not an Accuenergy data-log CSV: expected a header 'timestamp, <parameter>, …' "
                f"and rows starting with a time; it starts with {text[:60]!r}",
                file=name,
            )
    else:
        keys = _configured_columns(options, name)
        body, first_line = rows, 1
    times = [r[0].strip() for r in body]
    log = DeviceLog(kind="csv", first_line=first_line)
    for col, key in enumerate(keys, start=1):
        if key:
            values = [r[col].strip() if col < len(r) else "" for r in body]
            log.series.append(Series(key, "", times, values))
    return log


def _looks_like_time(cell: str) -> bool:
    if cell.lower() in TIME_HEADERS:
        return False
    return bool(re.match(r"^[+-]?\d", cell))


def _configured_columns(options: Mapping[str, Any], name: str) -> list[str]:
    columns = [str(c).strip() for c in options.get("columns") or []]
    if columns and columns[0].lower() in TIME_HEADERS:
        columns = columns[1:]
    if not columns:
        raise SourceError(
            "CSV has no header row and the device has no column list; set the device's "
            "'columns' option (parameter keys after the timestamp, in file order)",
            file=name,
        )
    return columns


Classifier = Callable[[DeviceLog, Series], tuple[str, str] | None]


def emit(
    logs: list[DeviceLog], name: str, options: Mapping[str, Any], classify: Classifier
) -> PointColumns:
    """Readings of device logs; `classify` gives (source_id, quantity) or None to skip a series."""
    out = PointColumns()
    skipped: set[str] = set()
    for log in logs:
        parser = TimeParser(options.get("tz") or "UTC", options.get("time_encoding") or "auto")
        time_cache: dict[int, list[int | str]] = {}
        for series in log.series:
            target = classify(log, series)
            if target is None:
                skipped.add(series.param)
                continue
            key = id(series.times)
            if key not in time_cache:
                time_cache[key] = parser.parse_all(series.times)
            _emit_series(series, time_cache[key], target, name, log, out)
    out.info["skipped_params"] = sorted(skipped)
    if not len(out) and out.problems:
        raise SourceError(f"no value could be read; first: {out.problems[0].describe()}", file=name)
    return out


def _emit_series(
    series: Series,
    times: list[int | str],
    target: tuple[str, str],
    name: str,
    log: DeviceLog,
    out: PointColumns,
) -> None:
    source_id, quantity = target
    first_line = log.first_line
    for row, (raw, time_ns) in enumerate(zip(series.values, times, strict=True)):
        line = first_line + row if log.kind == "csv" else None
        if isinstance(time_ns, str):
            out.bad(time_ns, name, "timestamp", series.times[row], line)
            continue
        try:
            number = parse_value(raw)
        except ValueError:
            out.bad("value is not a number", name, series.param, raw, line)
            continue
        if number is not None:
            where = f"{name}:{line or row + 1}:{series.param}"
            unit = quantity.split("-")[0]
            out.add(source_id, quantity, time_ns, number, where, unit=unit)


def param_quantity(param: str, unit: str) -> str | None:
    """Quantity of an AcuLink/WEB2 parameter: kWh registers, kW demand, DI states; else None."""
    u = unit.strip().lower()
    p = param.lower()
    if u == "kwh" or p.endswith("_kwh"):
        return "kWh-register"
    if u == "kvarh" or p.endswith("_kvarh"):
        return "kVArh-register"
    if u == "kw" or p.endswith("_kw"):
        return "kW"
    if u == "kvar" or p.endswith("_kvar"):
        return "kVAr"
    if re.match(r"^di_?\d+$", p):
        return "state"
    return None
