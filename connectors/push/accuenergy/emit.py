"""Readings of Accuenergy device logs: times read in the device zone, values, origins.

Shared by the AcuLink 810 and AcuRev 2100 readers (each classifies a log's
series: source id and quantity, or skipped). A log whose series share their
times, whose times and values all read plainly and whose registers are not
negative is taken whole, in a few C calls (the listener's common case); any
other is read series by series and value by value, every value that cannot
be read named (file, line, column, value) and left out. When the file name
carries a UTC epoch, the first row's local time must agree with it (see
`connectors.push.accuenergy.payloads`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from connectors.base import SourceError
from connectors.push.accuenergy.names import fixed_zone, zone_mismatch, zone_offset
from connectors.push.accuenergy.payloads import DeviceLog, Series
from connectors.push.common import (
    PointColumns,
    TimeParser,
    is_naive_text,
    quick_value,
    quick_values,
    slash_order_near,
)
from connectors.push.registers import is_register

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
        times_of = _LogTimes(_time_parser(log, name, options))
        wanted: list[tuple[Series, tuple[str, str]]] = []
        for series in log.series:
            target = classify(log, series)
            if target is None:
                skipped.add(series.param)
            else:
                wanted.append((series, target))
        if not _emit_whole_log(wanted, times_of, name, log, out):
            for series, target in wanted:
                _emit_series(series, times_of(series), target, name, log, out)
    out.info["skipped_params"] = sorted(skipped)
    out.info["meters"] = sorted({log.meter_key for log in logs})
    if not len(out) and out.problems:
        raise SourceError(f"no value could be read; first: {out.problems[0].describe()}", file=name)
    return out


class _LogTimes:
    """A log's times read, once per list of raw times, and whether every one read."""

    def __init__(self, parser: TimeParser) -> None:
        self.parser = parser
        self.cache: dict[int, tuple[list[int | str], bool]] = {}

    def __call__(self, series: Series) -> tuple[list[int | str], bool]:
        key = id(series.times)
        if key not in self.cache:
            times = self.parser.parse_all(series.times)
            self.cache[key] = times, not any(isinstance(t, str) for t in times)
        return self.cache[key]


def _emit_whole_log(
    wanted: list[tuple[Series, tuple[str, str]]],
    times_of: Callable[[Series], tuple[list[int | str], bool]],
    name: str,
    log: DeviceLog,
    out: PointColumns,
) -> bool:
    """Every wanted series of a log into `out` at once, when they share their times, every
    time and value reads plainly and no register is negative; False (nothing added) if not.

    The readings are those `_emit_series` gives series by series, in the same order.
    """
    if not wanted:
        return True
    shared = wanted[0][0].times
    if any(series.times is not shared for series, _ in wanted):
        return False
    times, times_read = times_of(wanted[0][0])
    count = len(times)
    if not times_read or any(len(series.values) != count for series, _ in wanted):
        return False
    numbers = quick_values([value for series, _ in wanted for value in series.values])
    if numbers is None:
        return False
    for at, (_, (_, quantity)) in enumerate(wanted):
        if count and is_register(quantity) and min(numbers[at * count : (at + 1) * count]) < 0:
            return False  # named value by value
    rows = range(_first_row(log), _first_row(log) + count)
    out.time_ns.extend(times * len(wanted))  # type: ignore[arg-type]  # all read
    out.value.extend(numbers)
    heads = [f"{name}:{row}:" for row in rows]  # origins: head + parameter (no formatting each)
    out.origin.extend([head + series.param for series, _ in wanted for head in heads])
    for _, (source_id, quantity) in wanted:  # a few C calls a series
        out.source_id.extend([source_id] * count)
        out.quantity.extend([quantity] * count)
        out.unit.extend([_unit(quantity)] * count)
    out.interval_s.extend([0] * len(numbers))
    out.note.extend([None] * len(numbers))
    return True


def _first_row(log: DeviceLog) -> int:
    """The origin's number for a log's first value: its CSV line, or 1 (JSON: the position)."""
    return 1 if log.first_line is None else log.first_line


def _unit(quantity: str) -> str:
    return quantity.split("-")[0] or quantity


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
        first = _first_row(log)
        prefix, suffix = f"{name}:", f":{series.param}"
        out.time_ns.extend(times)  # type: ignore[arg-type]  # all read (`times_read`)
        out.value.extend(numbers)
        out.origin.extend([f"{prefix}{n}{suffix}" for n in range(first, first + len(numbers))])
        kept = len(numbers)
    else:
        kept = _emit_one_by_one(series, times, register, name, log, out)
    out.source_id.extend([source_id] * kept)
    out.quantity.extend([quantity] * kept)
    out.unit.extend([_unit(quantity)] * kept)
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
