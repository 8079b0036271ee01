"""A push body read by a mapping the user made from an example (any push device).

When a device's pushes come in a shape its reader does not know, the user
points at the parts of a held body (in the app's "Map held pushes…" dialog or
with ``meterbridge device map``) and the device gets option ``mapping``::

    {"points": "data.records",   # dotted path to the list of points ("" = the body;
                                 #   "data.sensors.*.samples": every sensor's samples)
     "id": "sensor.serial",      # each: a path in the point, its enclosing elements, the body
     "time": "ts", "value": "v",
     "unit": "u", "estimated": "flag",            # optional
     "register": false,          # true: values are cumulative registers (differenced)
     "quantity": "kWh",          # optional: the quantity when there is no unit path
     "time_format": "auto",      # or a strptime format, e.g. %d/%m/%Y %H:%M
     "tz": "Europe/London"}      # zone of times without one (default: the device's)

A CSV body is a list of points too: its rows, keyed by the header; a path is
then a column name. The mapping is read by `parse_push` in place of the
device's own reader; every reading names its point (``points[3].ts``) or CSV
line when it cannot be read. Rows flagged estimated are listed in
``info["estimated_rows"]`` (the listener then commits a frame with the flag).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import SourceError
from connectors.push.common import PointColumns, TimeParser, csv_rows, dig, load_json, parse_value
from connectors.push.registers import is_register, register_quantity

MAPPING_KEYS = (
    "points",
    "id",
    "time",
    "value",
    "unit",
    "estimated",
    "register",
    "quantity",
    "time_format",
    "tz",
)
REQUIRED = ("id", "time", "value")
TRUE_TEXT = frozenset({"1", "true", "yes", "y", "e", "estimated", "est"})


def mapping_problem(mapping: Any) -> str | None:
    """Why `mapping` cannot be a device's ``mapping`` option, or None when it can."""
    if not isinstance(mapping, dict):
        return "option mapping: expected a JSON object (see `meterbridge device map --help`)"
    unknown = sorted(set(mapping) - set(MAPPING_KEYS))
    if unknown:
        return f"option mapping: unknown key {unknown[0]!r}; keys: {', '.join(MAPPING_KEYS)}"
    missing = [k for k in REQUIRED if not str(mapping.get(k) or "").strip()]
    if missing:
        return f"option mapping: the {'/'.join(missing)} path is missing"
    if "points" in mapping and not isinstance(mapping["points"], str):
        return "option mapping: points is a dotted path ('' = the body itself is the list)"
    return None


def parse_push(data: bytes, name: str, options: Mapping[str, Any]) -> PointColumns:
    """Readings of a body read through the device's ``mapping`` option.

    Raises:
        SourceError: when the body is not JSON/CSV, the points path is not a
            list, or no point gives a reading.
    """
    mapping = dict(options.get("mapping") or {})
    problem = mapping_problem(mapping)
    if problem:
        raise SourceError(problem, file=name)
    body, points, lines = _points(data, name, str(mapping.get("points") or ""))
    tz = mapping.get("tz") or options.get("tz") or "UTC"
    parser = TimeParser(
        tz, str(mapping.get("time_format") or options.get("time_encoding") or "auto")
    )
    found = [_fields(point, body, mapping) for point in points]
    times = parser.parse_all([f[1] for f in found])
    out = PointColumns()
    for index, ((sid, when, value, unit, estimated), time_ns) in enumerate(
        zip(found, times, strict=True)
    ):
        where = f"points[{index}]." if lines is None else ""  # CSV: the column name alone
        line = None if lines is None else lines[index]
        _add(out, name, where, line, mapping, (sid, when, value, unit, estimated), time_ns, options)
    if not len(out) and out.problems:
        first = out.problems[0].describe()
        raise SourceError(f"the mapping gave no reading; first problem: {first}", file=name)
    return out


def _points(data: bytes, name: str, path: str) -> tuple[Any, list[Any], list[int] | None]:
    """The body, its points (each with its enclosing elements) and (CSV) their line numbers."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"body is not UTF-8 text (byte {exc.start})", file=name) from None
    if text.lstrip().startswith(("{", "[")):
        body = load_json(text, name)
        lists = _expand(body, path)
        if not lists:
            raise SourceError(f"no list of points at the mapping's points path {path!r}", file=name)
        return body, [(point, outer) for found, outer in lists for point in found], None
    table = csv_rows(text, name)
    header = [h.strip() for h in table[0]] if table else []
    rows = [dict(zip(header, row, strict=False)) for row in table[1:] if any(row)]
    if not rows:
        raise SourceError("the CSV body has a header but no rows", file=name)
    return {}, [(row, ()) for row in rows], [index + 2 for index in range(len(rows))]


def _expand(body: Any, path: str) -> list[tuple[list[Any], tuple[Any, ...]]]:
    """The lists at `path` with the elements enclosing each (innermost first).

    A ``*`` segment stands for every element of a list (``data.sensors.*.samples``:
    the samples of every sensor, each sample seeing its sensor's fields too).
    """
    nodes: list[tuple[Any, tuple[Any, ...]]] = [(body, ())]
    for segment in path.split(".") if path else []:
        deeper: list[tuple[Any, tuple[Any, ...]]] = []
        for node, outer in nodes:
            if segment == "*" and isinstance(node, list):
                deeper.extend((child, (child, *outer)) for child in node)
            elif segment != "*":
                child = dig(node, segment)
                if child is not None:
                    deeper.append((child, outer))
        nodes = deeper
    return [(node, outer) for node, outer in nodes if isinstance(node, list)]


def _look(point: Any, outer: tuple[Any, ...], body: Any, path: Any) -> Any:
    """The value at `path` in the point (a CSV column name as it is), its enclosing
    elements (innermost first), else the body."""
    if not path:
        return None
    text = str(path)
    if isinstance(point, dict) and text in point:
        return point[text]
    for node in (point, *outer, body):
        found = dig(node, text)
        if found is not None:
            return found
    return None


def _fields(point: tuple[Any, tuple[Any, ...]], body: Any, mapping: Mapping[str, Any]) -> Any:
    item, outer = point
    keys = ("id", "time", "value", "unit", "estimated")
    return tuple(_look(item, outer, body, mapping.get(key)) for key in keys)


def _add(
    out: PointColumns,
    name: str,
    where: str,
    line: int | None,
    mapping: Mapping[str, Any],
    fields: tuple[Any, ...],
    time_ns: int | str,
    options: Mapping[str, Any],
) -> None:
    sid, when, value, unit, estimated = fields
    if sid is None or str(sid).strip() == "":
        out.bad(f"no id at {mapping.get('id')!r}", name, f"{where}{mapping.get('id')}", None, line)
        return
    if isinstance(time_ns, str):
        out.bad(time_ns, name, f"{where}{mapping.get('time')}", when, line)
        return
    try:
        number = parse_value(value)
    except ValueError as exc:
        out.bad(str(exc), name, f"{where}{mapping.get('value')}", value, line)
        return
    if number is None:
        return
    quantity = _quantity(mapping, unit, options)
    if number < 0 and is_register(quantity):
        column = f"{where}{mapping.get('value')}"
        out.bad("a cumulative register cannot be negative", name, column, value, line)
        return
    origin = f"{name}:{line or where.rstrip('.')}:{mapping.get('value')}"
    if str(estimated or "").strip().lower() in TRUE_TEXT:
        out.info.setdefault("estimated_rows", []).append(len(out))
    out.add(str(sid).strip(), quantity, time_ns, number, origin, unit=quantity.split("-")[0])


def _quantity(mapping: Mapping[str, Any], unit: Any, options: Mapping[str, Any]) -> str:
    base = str(unit or mapping.get("quantity") or options.get("default_quantity") or "kWh").strip()
    return register_quantity(base) if mapping.get("register") else base


def point_path(path: str, points: str) -> str:
    """A path as the mapping wants it: relative to a point when it lies inside one.

    ``data.records.0.ts`` with points ``data.records`` is ``ts``; with points
    ``''`` (the body is the list) ``0.sensor.id`` is ``sensor.id``; with points
    ``data.sensors.*.samples``, ``data.sensors.2.serial`` is ``serial`` (found in
    the sample's sensor); a path outside the points (``sensor.serial``) stays as
    it is (looked up in the body).
    """
    parts = path.split(".") if path else []
    pattern = [*(points.split(".") if points else []), "*"]  # the point itself: an index
    relative = path
    for depth, wanted in enumerate(pattern):
        if depth >= len(parts):
            break
        got = parts[depth]
        if wanted == "*" and got.isdigit():
            relative = ".".join(parts[depth + 1 :]) or path
        elif got != wanted:
            break
    return relative


def points_pattern(path: str) -> str:
    """A clicked list's path as a points path: list indexes become ``*`` (every element)."""
    return (
        ".".join("*" if segment.isdigit() else segment for segment in path.split("."))
        if path
        else ""
    )
