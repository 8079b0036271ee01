"""Shared pieces of the push readers: point columns, values and time parsing.

Push payloads are small (a batch of points per request) and arrive hundreds of
times a second, so the readers collect plain Python columns (`PointColumns`)
and the listener turns many requests into one DataFrame at once; `read()` of
each connector wraps the same columns into a `ReadingBatch` for file use.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
from pandas.arrays import ArrowStringArray

from connectors.base import STRING_DTYPE, ConnectorInfo, Problem, ProblemKind, ReadingBatch, Source
from connectors.finite import NOT_FINITE, finite_number
from connectors.push.bodies import NotANumberLiteral, csv_rows, load_json, long_digit_run
from connectors.push.registers import difference_frame
from connectors.push.times import (
    EPOCH_MS_THRESHOLD,
    TIME_ENCODINGS,
    TimeParser,
    is_naive_text,
    iso_of,
    slash_order,
    slash_order_near,
    zone,
)

__all__ = [  # the time and body helpers live in `times` and `bodies`; readers import them here
    "EPOCH_MS_THRESHOLD",
    "TIME_ENCODINGS",
    "NotANumberLiteral",
    "PointColumns",
    "PushConnector",
    "TimeParser",
    "csv_rows",
    "dig",
    "first_key",
    "is_naive_text",
    "iso_of",
    "load_json",
    "parse_value",
    "quick_value",
    "quick_values",
    "slash_order",
    "slash_order_near",
    "zone",
]

MISSING_TEXT = frozenset({"", "nan", "-nan", "+nan", "----", "null", "none", "n/a"})
DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")


@dataclass
class PointColumns:
    """Readings as plain columns (cheap to build per request), plus problems."""

    source_id: list[str] = field(default_factory=list)
    quantity: list[str] = field(default_factory=list)
    unit: list[str] = field(default_factory=list)
    time_ns: list[int] = field(default_factory=list)
    interval_s: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    note: list[str | None] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.value)

    def add(
        self,
        source_id: str,
        quantity: str,
        time_ns: int,
        value: float,
        origin: str,
        *,
        unit: str | None = None,
        interval_s: int = 0,
        note: str | None = None,
    ) -> None:
        """Append one reading."""
        self.source_id.append(source_id)
        self.quantity.append(quantity)
        self.unit.append(unit or quantity)
        self.time_ns.append(time_ns)
        self.interval_s.append(interval_s)
        self.value.append(value)
        self.note.append(note)
        self.origin.append(origin)

    def extend(self, other: PointColumns) -> None:
        """Append all readings and problems of `other`."""
        for name in ("source_id", "quantity", "unit", "time_ns", "interval_s", "value"):
            getattr(self, name).extend(getattr(other, name))
        self.note.extend(other.note)
        self.origin.extend(other.origin)
        self.problems.extend(other.problems)

    def to_frame(self) -> pd.DataFrame:
        """The readings as a schema-conformant DataFrame (built directly: no copies)."""
        times = pd.DatetimeIndex(np.asarray(self.time_ns, dtype="int64").view("datetime64[ns]"))
        frame = pd.DataFrame(
            {
                "source_id": _strings(self.source_id),
                "quantity": _strings(self.quantity),
                "unit": _strings(self.unit),
                "time": times.tz_localize("UTC"),
                "interval_s": np.asarray(self.interval_s, dtype="int64"),
                "value": np.asarray(self.value, dtype="float64"),
                "estimated": np.zeros(len(self.value), dtype=bool),
                "note": _strings(self.note),
                "origin": _strings(self.origin),
            }
        )
        return frame  # every column is built with the schema's dtype

    def to_batch(self, options: Mapping[str, Any] | None = None) -> ReadingBatch:
        """The readings and problems as a `ReadingBatch` (for files read on their own).

        Register series are differenced within the file (option ``reset_rule``)
        unless option ``registers`` is ``raw``, or the source id is in option
        ``raw_sources`` (the mapping's ``register=raw`` rows).
        """
        opts, frame = options or {}, self.to_frame()
        if str(opts.get("registers") or "difference") != "raw":
            rule, raw = str(opts.get("reset_rule") or "from_zero"), opts.get("raw_sources")
            frame = difference_frame(frame, reset_rule=rule, raw_sources=frozenset(raw or ()))
        return ReadingBatch(readings=frame, problems=list(self.problems), info=self.info)

    def bad(
        self, message: str, file: str, column: str, value: Any, line: int | None = None
    ) -> None:
        """Record a value that cannot be read (that reading is not sent)."""
        self.problems.append(
            Problem(
                ProblemKind.BAD_VALUE,
                message,
                file=file,
                line=line,
                column=column,
                value=None if value is None else str(value)[:80],
            )
        )


def _strings(values: list[str] | list[str | None]) -> Any:
    """A string column of the reading schema (Arrow-backed when pandas uses Arrow)."""
    if STRING_DTYPE.storage == "pyarrow":
        return ArrowStringArray(pa.array(values, type=pa.large_string()))
    return pd.array(values, dtype=STRING_DTYPE)


def parse_value(raw: Any) -> float | None:
    """A reading value, or None when the device marks it missing.

    `nan`, `-nan`, `----`, empty and null are missing (not zero). Infinities and
    numbers too large for a float (``1e999``) are bad values, never readings:
    the shared check `connectors.base.finite_number` decides, and the message
    is its `NOT_FINITE`.

    Raises:
        ValueError: for text that is not a number, or a number that is not finite.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        return float(raw)
    if isinstance(raw, float) and math.isnan(raw):
        return None
    if not isinstance(raw, (int, float)):
        text = str(raw).strip()
        if text.lower() in MISSING_TEXT:
            return None
        if not DECIMAL.match(text):  # not float()'s extras: "1_000", "٣", "infinity"
            raise ValueError("value is not a number")
        raw = text
    number = finite_number(raw)
    if number is None:
        raise ValueError(NOT_FINITE)
    return number


_DECIMAL_MATCH = DECIMAL.match


def quick_value(raw: Any) -> float | None:
    """`parse_value`, with decimal text and finite floats read first (the listener's hot path).

    Raises:
        ValueError: as `parse_value`.
    """
    kind = type(raw)
    if kind is str:
        text = raw.strip()
        if _DECIMAL_MATCH(text):  # never one of the missing markers
            number = float(text)
            if math.isfinite(number):
                return number
    elif kind is float and math.isfinite(raw):
        return raw  # type: ignore[no-any-return]
    return parse_value(raw)


_NUMBER_TYPES = frozenset({int, float})
_FLOAT_TYPE = frozenset({float})


def quick_values(raws: list[Any]) -> list[float] | None:
    """Every value as `quick_value` reads it, when each is decimal text (spaces around
    allowed) or each is an int or float, and all are finite; else None (then read them
    one by one: something among them is missing, bad or not finite).

    `float` reads ASCII text without underscores exactly as `quick_value` does, but
    for the infinities and NaN, which the sum finds: a few C calls for the column.
    Texts that are JSON numbers are read by orjson, five times faster (`_json_numbers`).
    """
    if not raws:
        return []
    try:
        text = ",".join(raws)
    except TypeError:  # not all text: numbers?
        if not _NUMBER_TYPES.issuperset(map(type, raws)):
            return None  # bools, None, mixed: one by one
        numbers = _floats(raws)
    else:
        numbers = _json_numbers(text, len(raws))
        if numbers is None:
            if "_" in text or not text.isascii():
                return None  # float() reads "1_000" and other digits; quick_value does not
            numbers = _floats(raws)
    if numbers is None:
        return None
    total = sum(numbers)
    return numbers if total - total == 0.0 else None  # NaN or an infinity among them


def _floats(raws: list[Any]) -> list[float] | None:
    try:
        return list(map(float, raws))
    except (ValueError, OverflowError):  # not a number, a missing marker; 10**400
        return None


def _json_numbers(joined: str, count: int) -> list[float] | None:
    """The texts joined by commas as floats, when each is one JSON number; else None.

    A JSON number (with JSON spaces around) is text `float` reads, and orjson reads
    it to the same float (as `load_json` relies on), except: integers of 19 digits
    or more (orjson may read them as floats: left to `float`), and a negative zero
    (orjson reads ``-0`` as the integer 0: a zero beside a minus sign is left to `float`).
    A text holding a comma, a bracket or anything but one number fails the count or
    the types.
    """
    if long_digit_run(joined):
        return None
    try:
        read = orjson.loads(f"[{joined}]")
    except orjson.JSONDecodeError:
        return None
    if len(read) != count or not _NUMBER_TYPES.issuperset(map(type, read)):
        return None
    if "-" in joined and 0 in read:
        return None  # maybe a negative zero
    return read if _FLOAT_TYPE.issuperset(map(type, read)) else list(map(float, read))


def dig(document: Any, path: str) -> Any:
    """The value at a dotted `path` (``a.b.0.c``) in nested dicts/lists, or None."""
    node = document
    for key in path.split("."):
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and key.lstrip("-").isdigit():
            index = int(key)
            node = node[index] if -len(node) <= index < len(node) else None
        else:
            return None
        if node is None:
            return None
    return node


def first_key(point: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    """The first of `keys` present in `point` (name and value), else (None, None)."""
    for key in keys:
        if key in point and point[key] is not None:
            return key, point[key]
    return None, None


ColumnReader = Callable[[bytes, str, Mapping[str, Any]], PointColumns]
TextSniffer = Callable[[str, str], float]


class PushConnector:
    """A push reader as a `Connector`: it reads a body or device file whole.

    A push reader module gives the three parts that differ: its `INFO`, its
    column reader `parse_push` (the listener calls the same function per
    request) and `sniff_text` (confidence in [0, 1] from the first 4 KB of a
    file, decoded, and its name). The bodies are small (the listener caps them)
    and parse as one document.
    """

    def __init__(self, info: ConnectorInfo, parse: ColumnReader, sniff_text: TextSniffer) -> None:
        self.info = info
        self.parse = parse
        self.sniff_text = sniff_text

    def sniff(self, head: bytes, name: str) -> float:
        """Confidence in [0, 1] that `head` (first bytes of a file called `name`) is ours."""
        return self.sniff_text(head[:4096].decode("utf-8", "replace"), name)

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        """Yield the readings of one body or device file, as one batch."""
        with source.open() as handle:
            data = handle.read()
        yield self.parse(data, source.name, options).to_batch(options)
