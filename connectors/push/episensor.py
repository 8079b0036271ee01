"""EpiSensor gateway: RKDAP JSON pushes and the gateway's `DAT_*.csv` export.

The JSON schema is not public, so the reader is a tolerant default plus
per-device settings (options):

    points_path     dotted path to the points array (default: the top-level
                    array, or the first array under data/points/readings/values)
    id_path, time_path, value_path   key (dotted path) inside a point
                    (defaults: first of exportId, export_id, id, sensorId,
                    sensor_id, name / timestamp, ts, time, datetime / value, val, v)
    tz              zone of naive times (default UTC)
    time_encoding   auto | iso | epoch_s | epoch_ms | local | a strptime format
    register_ids    export-ID suffixes that are cumulative kWh registers
                    (default 333, 300, 301)
    register_sources / not_register_sources   whole export IDs to add / exclude
    quantities      {export ID or suffix: quantity} for other sensors
    default_quantity   quantity of other sensors (default ``value``; known
                    state sensors 26, 359, 41, 42, 250, 251 are ``state``)

The export ID (``000D6F0001A303D4_333``) is the source id, kept as-is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from connectors.base import ConnectorInfo, SourceError
from connectors.push.common import (
    EPOCH_MS_THRESHOLD,
    PointColumns,
    PushConnector,
    TimeParser,
    csv_rows,
    dig,
    load_json,
    parse_value,
)
from connectors.push.registers import is_register, register_quantity

INFO = ConnectorInfo(
    id="episensor",
    name="EpiSensor gateway",
    description="EpiSensor RKDAP JSON pushes and DAT_*.csv exports (export ID = source id)",
    file_patterns=("DAT_*.csv", "*.json"),
)

ARRAY_KEYS = ("data", "points", "readings", "values")
ID_KEYS = ("exportId", "export_id", "id", "sensorId", "sensor_id", "name")
TIME_KEYS = ("timestamp", "ts", "time", "datetime")
VALUE_KEYS = ("value", "val", "v")
REGISTER_IDS = ("333", "300", "301")
STATE_IDS = frozenset({"26", "359", "41", "42", "250", "251"})


def parse_push(data: bytes, name: str, options: Mapping[str, Any]) -> PointColumns:
    """Readings of an EpiSensor JSON body or DAT_*.csv file, as columns.

    Raises:
        SourceError: when nothing in the body can be read as points.
    """
    text = _decode(data, name)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return parse_json(text, name, options)
    return parse_csv(text, name, options)


def sniff_text(text: str, name: str) -> float:
    """High for DAT_*.csv files and JSON with export-ID-like keys."""
    lower = name.lower()
    if lower.startswith("dat_") and lower.endswith(".csv"):
        return 0.9
    if text.lstrip().startswith(("{", "[")) and ("exportId" in text or "export_id" in text):
        return 0.8
    return 0.0


CONNECTOR = PushConnector(INFO, parse_push, sniff_text)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"body is not UTF-8 text (byte {exc.start})", file=name) from None


def parse_json(text: str, name: str, options: Mapping[str, Any]) -> PointColumns:
    """Readings of an RKDAP-style JSON document (see module doc for the defaults)."""
    document = load_json(text, name)
    points = find_points(document, options.get("points_path"), name)
    fast = _fast_points(points, name, options)
    if fast is not None:
        return fast
    raw: list[tuple[int, str, Any, Any]] = []
    out = PointColumns()
    for index, point in enumerate(points):
        raw.extend(_point_fields(point, f"points[{index}]", name, options, out))
    _emit(raw, name, options, out)
    if not len(out) and out.problems:
        first = out.problems[0].describe()
        raise SourceError(f"no point could be read; first problem: {first}", file=name)
    return out


def _fast_points(points: list[Any], name: str, options: Mapping[str, Any]) -> PointColumns | None:
    """The common case column by column, or None when a point needs the general path.

    The common case: default settings, `exportId`, integer epoch `timestamp`,
    finite numeric `value` (checked for the whole batch at C speed; one
    exception sends the batch to the general path, which names it).
    """
    if any(options.get(k) for k in ("id_path", "time_path", "value_path")):
        return None
    if (options.get("time_encoding") or "auto") != "auto":
        return None
    if not points or set(map(type, points)) != {dict}:
        return None
    ids = [p.get("exportId") for p in points]
    whens = [p.get("timestamp") for p in points]
    values: list[Any] = [p.get("value") for p in points]
    if set(map(type, ids)) != {str} or set(map(type, whens)) != {int}:
        return None
    if not set(map(type, values)) <= {int, float} or not _finite(values):
        return None
    if min(whens) < MIN_EPOCH or max(whens) > MAX_EPOCH_MS:
        return None  # out of range: the general path names it
    out = PointColumns()
    if max(whens) < EPOCH_MS_THRESHOLD:
        out.time_ns = [when * 1_000_000_000 for when in whens]
    else:
        scale = (1_000_000, 1_000_000_000)
        out.time_ns = [when * scale[when < EPOCH_MS_THRESHOLD] for when in whens]
    count = len(ids)
    kinds = SensorKinds(options)
    quantities = {sid: kinds.quantity(sid) for sid in set(ids)}
    negative = [sid for sid, v in zip(ids, values, strict=True) if v < 0]
    if any(is_register(quantities[sid]) for sid in negative):
        return None  # a negative register is named by the general path
    out.source_id = ids
    out.value = [float(v) for v in values]
    out.origin = [f"{name}:{index}:value" for index in range(1, count + 1)]
    out.quantity = [quantities[sid] for sid in ids]
    out.unit = list(out.quantity)
    out.interval_s = [0] * count
    out.note = [None] * count
    return out


MIN_EPOCH = 0
MAX_EPOCH_MS = 9_000_000_000_000  # year 2255 in ms: inside the nanosecond range


def _finite(values: list[Any]) -> bool:
    """Every value a finite float (a huge integer is not one)."""
    try:
        return all(map(math.isfinite, values))
    except OverflowError:
        return False


def find_points(document: Any, path: str | None, name: str) -> list[Any]:
    """The points array: at `path`, else top level, else under data/points/readings/values.

    Raises:
        SourceError: naming the keys found when no array is there.
    """
    if path:
        found = dig(document, path)
        if not isinstance(found, list):
            raise SourceError(f"no array at points path {path!r}", file=name)
        return found
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in ARRAY_KEYS:
            value = document.get(key)
            if isinstance(value, list):
                return value
            if isinstance(value, dict):
                return find_points(value, None, name)
        keys = ", ".join(list(document)[:12]) or "none"
        raise SourceError(
            "no points array: expected a top-level array or one under "
            f"{'/'.join(ARRAY_KEYS)} (keys found: {keys}); set the device's points path",
            file=name,
        )
    raise SourceError(f"JSON body is a {type(document).__name__}, not points", file=name)


def _point_fields(
    point: Any, where: str, name: str, options: Mapping[str, Any], out: PointColumns
) -> list[tuple[int, str, Any, Any]]:
    """(index, id, time, value) of a point, or of its children when it nests an array."""
    if not isinstance(point, dict):
        out.bad("a point is not a JSON object", name, where, point)
        return []
    sid = _field(point, options.get("id_path"), ID_KEYS)
    when = _field(point, options.get("time_path"), TIME_KEYS)
    value = _field(point, options.get("value_path"), VALUE_KEYS)
    if when is None and value is None:
        children = next((point[k] for k in ARRAY_KEYS if isinstance(point.get(k), list)), None)
        if children is not None and sid is not None:
            return [
                (0, str(sid), *_child(child, options))
                for child in children
                if isinstance(child, dict)
            ]
    if sid is None or when is None or value is None:
        missing = [k for k, v in (("id", sid), ("time", when), ("value", value)) if v is None]
        keys = ", ".join(list(point)[:10])
        out.bad(f"point has no {'/'.join(missing)} key (keys: {keys})", name, where, None)
        return []
    return [(0, sid if type(sid) is str else str(sid), when, value)]


def _child(child: dict[str, Any], options: Mapping[str, Any]) -> tuple[Any, Any]:
    return (
        _field(child, options.get("time_path"), TIME_KEYS),
        _field(child, options.get("value_path"), VALUE_KEYS),
    )


def _field(point: dict[str, Any], path: str | None, keys: tuple[str, ...]) -> Any:
    if path:
        return dig(point, path)
    for key in keys:
        found = point.get(key)
        if found is not None:
            return found
    return None


def _emit(
    raw: list[tuple[int, str, Any, Any]], name: str, options: Mapping[str, Any], out: PointColumns
) -> None:
    parser = TimeParser(options.get("tz") or "UTC", options.get("time_encoding") or "auto")
    times = parser.parse_all([r[2] for r in raw])
    classify = SensorKinds(options)
    for index, ((_, sid, when, value), time_ns) in enumerate(zip(raw, times, strict=True)):
        if isinstance(time_ns, str):
            out.bad(time_ns, name, f"points[{index}].time", when)
            continue
        try:
            number = parse_value(value)
        except ValueError as exc:
            out.bad(str(exc), name, f"points[{index}].value", value)
            continue
        quantity = classify.quantity(sid)
        if number is not None and number < 0 and is_register(quantity):
            where = f"points[{index}].value"
            out.bad("a cumulative register cannot be negative", name, where, value)
        elif number is not None:
            out.add(sid, quantity, time_ns, number, f"{name}:{index + 1}:value")


class SensorKinds:
    """Which export IDs are registers, states or other quantities (per device options)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.register_ids = {str(s) for s in options.get("register_ids", REGISTER_IDS)}
        self.register_sources = {str(s) for s in options.get("register_sources", ())}
        self.not_registers = {str(s) for s in options.get("not_register_sources", ())}
        self.quantities = {str(k): str(v) for k, v in dict(options.get("quantities", {})).items()}
        self.default = str(options.get("default_quantity") or "value")
        self._cache: dict[str, str] = {}

    def quantity(self, export_id: str) -> str:
        """The quantity of readings from `export_id` (``kWh-register`` for registers)."""
        found = self._cache.get(export_id)
        if found is None:
            found = self._cache[export_id] = self._decide(export_id)
        return found

    def _decide(self, export_id: str) -> str:
        suffix = export_id.rsplit("_", 1)[-1]
        if export_id in self.quantities:
            return self.quantities[export_id]
        registered = export_id in self.register_sources or suffix in self.register_ids
        if registered and export_id not in self.not_registers:
            return register_quantity("kWh")
        if suffix in self.quantities:
            return self.quantities[suffix]
        return "state" if suffix in STATE_IDS else self.default


def parse_csv(text: str, name: str, options: Mapping[str, Any]) -> PointColumns:
    """Readings of a gateway CSV export: one header row, then id, timestamp, value."""
    rows = csv_rows(text, name)
    if not rows:
        raise SourceError("file is empty", file=name)
    header = [c.strip().lower() for c in rows[0]]
    if len(header) < 3 or any(h.startswith("<") for h in header):
        raise SourceError(
            "body is neither JSON points nor an EpiSensor CSV export (header "
            f"'id, timestamp, value'); it starts with {text[:60]!r}",
            file=name,
        )
    raw = [(line, *row[:3]) for line, row in enumerate(rows[1:], start=2) if any(row)]
    out = PointColumns()
    parser = TimeParser(options.get("tz") or "UTC", options.get("time_encoding") or "auto")
    times = parser.parse_all([r[2] if len(r) > 2 else None for r in raw])
    classify = SensorKinds(options)
    for record, time_ns in zip(raw, times, strict=True):
        _csv_row(record, time_ns, name, classify, out)
    if not len(out) and out.problems:
        raise SourceError(f"no row could be read; first: {out.problems[0].describe()}", file=name)
    return out


def _csv_row(
    record: tuple[Any, ...], time_ns: int | str, name: str, kinds: SensorKinds, out: PointColumns
) -> None:
    line = int(record[0])
    if len(record) < 4:
        out.bad("row has fewer than 3 cells", name, "value", ",".join(record[1:]), line)
        return
    sid, when, value = (str(c).strip() for c in record[1:4])
    if isinstance(time_ns, str):
        out.bad(time_ns, name, "timestamp", when, line)
        return
    try:
        number = parse_value(value)
    except ValueError as exc:
        out.bad(str(exc), name, "value", value, line)
        return
    quantity = kinds.quantity(sid)
    if number is not None and number < 0 and is_register(quantity):
        out.bad("a cumulative register cannot be negative", name, "value", value, line)
    elif number is not None and sid:
        out.add(sid, quantity, time_ns, number, f"{name}:{line}:3")
