"""Shared pieces of the push readers: point columns, values and time parsing.

Push payloads are small (a batch of points per request) and arrive hundreds of
times a second, so the readers collect plain Python columns (`PointColumns`)
and the listener turns many requests into one DataFrame at once; `read()` of
each connector wraps the same columns into a `ReadingBatch` for file use.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.arrays import ArrowStringArray

from connectors.base import (
    NOT_FINITE,
    STRING_DTYPE,
    Problem,
    ProblemKind,
    ReadingBatch,
    Source,
    SourceError,
    finite_number,
)
from connectors.push.registers import difference_frame

MISSING_TEXT = frozenset({"", "nan", "-nan", "+nan", "----", "null", "none", "n/a"})
DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
EPOCH_MS_THRESHOLD = 100_000_000_000  # above: milliseconds (1e11 s would be year 5138)
TIME_ENCODINGS = ("auto", "iso", "epoch_s", "epoch_ms", "local")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def zone(name: str | tzinfo | None) -> tzinfo:
    """The IANA zone `name` (UTC when empty; a `tzinfo` is taken as it is).

    Raises:
        SourceError: for an unknown zone name.
    """
    if isinstance(name, tzinfo):
        return name
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(f"unknown time zone {name!r} in the device settings") from None


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


class TimeParser:
    """Turns a device's time values into UTC epoch nanoseconds.

    Encodings: ``auto`` (numbers are epoch seconds, or milliseconds above 1e11;
    text is ISO-8601, with or without offset), ``iso``, ``epoch_s``,
    ``epoch_ms``, ``local`` (naive text in the device zone) or a `strptime`
    format containing ``%``. Naive times are in the device zone (default UTC).
    Ambiguous local times (the repeated hour when clocks go back) resolve by
    order: once the times of a batch step backwards into the repeated hour,
    the later (standard-time) reading is meant; an ambiguous time with no such
    evidence is refused, naming the value. Slash dates (``05/06/2026``) are
    never guessed: the day/month order comes from a strptime encoding, or from
    a value of the same batch that proves it (``13/05/2026`` or ``05/13/2026``);
    otherwise they are refused, naming ``time_encoding`` and an example.
    """

    def __init__(
        self,
        tz: str | tzinfo | None = "UTC",
        encoding: str = "auto",
        *,
        slash_order: str | None = None,
    ) -> None:
        """A parser for one zone and encoding.

        Args:
            tz: the zone of naive times (an IANA name or a `tzinfo`).
            encoding: see the class doc.
            slash_order: ``dmy`` or ``mdy`` when something besides the values
                proves the order of slash dates (a file name's UTC instant).
        """
        self.zone = zone(tz)
        self.zone_name = str(getattr(self.zone, "key", None) or self.zone)
        self.encoding = encoding or "auto"
        self.proven_slash = slash_order
        self._slash: str | None = None  # "dmy" / "mdy" once a batch proves the order
        if self.encoding not in TIME_ENCODINGS and "%" not in self.encoding:
            raise SourceError(
                f"unknown time encoding {encoding!r}; use one of {', '.join(TIME_ENCODINGS)}"
                " or a strptime format such as %Y-%m-%d %H:%M:%S"
            )

    def parse(self, raw: Any) -> int:
        """Epoch nanoseconds (UTC) for one time value (an ambiguous local time is refused).

        Raises:
            ValueError: with a message saying what the value should look like.
        """
        result = self.parse_all([raw])[0]
        if isinstance(result, str):
            raise ValueError(result)
        return result

    def parse_all(self, raws: list[Any]) -> list[int | str]:
        """Epoch nanoseconds for each value in order, or the error message for it."""
        stamps: list[datetime | int | str] = []
        self._slash = slash_order(raws) or self.proven_slash
        all_epoch = self.encoding in ("epoch_s", "epoch_ms")
        auto = self.encoding == "auto"
        for raw in raws:
            try:
                epoch = all_epoch or (auto and not isinstance(raw, bool) and _is_number(raw))
                if epoch and raw is not None:
                    stamps.append(self._epoch(raw))  # the common case, no datetime objects
                    continue
                stamps.append(self._stamp(raw))
            except ValueError as exc:
                stamps.append(str(exc))
        folds = self._folds(stamps)
        out: list[int | str] = []
        stamps = [_in_range(s) for s in stamps]
        for stamp, fold in zip(stamps, folds, strict=True):
            if isinstance(stamp, (int, str)):
                out.append(stamp)
            elif stamp.tzinfo is not None:
                out.append(_to_ns(stamp))
            elif fold is None:
                out.append(
                    f"local time is ambiguous in {self.zone_name} (clocks went back); "
                    "send UTC or an offset, or the repeated hour twice in time order"
                )
            else:
                out.append(_to_ns(stamp.replace(tzinfo=self.zone, fold=fold)))
        return out

    def _stamp(self, raw: Any) -> datetime:
        """An aware datetime, or a naive one left only when ambiguous locally."""
        if isinstance(raw, bool) or raw is None:
            raise ValueError("time is missing")
        if self.encoding in ("epoch_s", "epoch_ms") or (
            self.encoding == "auto" and _is_number(raw)
        ):
            return _EPOCH + timedelta(microseconds=self._epoch(raw) // 1000)
        text = str(raw).strip()
        if "%" in self.encoding:
            try:
                stamp = datetime.strptime(text, self.encoding)
            except ValueError:
                raise ValueError(f"time does not match format {self.encoding}") from None
        else:
            stamp = _iso(text, self._slash)
        return stamp if stamp.tzinfo is not None else self._localize(stamp)

    def _epoch(self, raw: Any) -> int:
        """Epoch nanoseconds of a number (exact for integers, microseconds for fractions)."""
        if isinstance(raw, str):
            text = raw.strip()
            raw = int(text) if text.lstrip("+-").isdigit() else text
        if isinstance(raw, int):
            ms = self._is_ms(raw)
            return raw * (1_000_000 if ms else 1_000_000_000)
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise ValueError("time is not an epoch number") from None
        if not math.isfinite(number):
            raise ValueError("time is not a finite number")
        micros = round(number * (1_000 if self._is_ms(number) else 1_000_000))
        return micros * 1_000

    def _is_ms(self, number: float) -> bool:
        if self.encoding == "epoch_ms":
            return True
        return self.encoding == "auto" and abs(number) >= EPOCH_MS_THRESHOLD

    def _localize(self, naive: datetime) -> datetime:
        """Aware local time; ambiguous ones stay naive for `_folds` to settle."""
        first = naive.replace(tzinfo=self.zone, fold=0)
        second = naive.replace(tzinfo=self.zone, fold=1)
        if first.utcoffset() == second.utcoffset():
            return first
        if _roundtrip(first) != naive:
            raise ValueError(f"local time does not exist in {self.zone_name} (clocks went forward)")
        return naive

    @staticmethod
    def _folds(stamps: list[datetime | int | str]) -> list[int | None]:
        """Fold of each ambiguous (naive) stamp: 0 before a step back, 1 after, else None."""
        naive = [
            (i, s) for i, s in enumerate(stamps) if isinstance(s, datetime) and s.tzinfo is None
        ]
        folds: list[int | None] = [None] * len(stamps)
        step = next((k for k in range(1, len(naive)) if naive[k][1] < naive[k - 1][1]), None)
        if step is None:
            return folds
        for k, (i, _) in enumerate(naive):
            folds[i] = 0 if k < step else 1
        return folds


MIN_NS, MAX_NS = -(2**63) + 1, 2**63 - 1  # what a nanosecond timestamp can hold


def _in_range(stamp: datetime | int | str) -> datetime | int | str:
    """The stamp, or the error message for an epoch outside 1678–2262."""
    if isinstance(stamp, int) and not MIN_NS <= stamp <= MAX_NS:
        return "time is outside the years 1678–2262"
    if isinstance(stamp, datetime) and not 1678 <= stamp.year <= 2261:
        return "time is outside the years 1678–2261"
    return stamp


def _roundtrip(stamp: datetime) -> datetime:
    return stamp.astimezone(UTC).astimezone(stamp.tzinfo).replace(tzinfo=None)


def _is_number(raw: Any) -> bool:
    if isinstance(raw, (int, float)):
        return True
    text = str(raw).strip()
    return bool(text) and text.lstrip("+-").replace(".", "", 1).isdigit()


SLASH_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]|$)")


def slash_order(raws: list[Any]) -> str | None:
    """``dmy`` or ``mdy`` when a slash date of the batch proves the order, else None.

    A first number above 12 proves day first, a second above 12 month first; a
    batch proving both is left undecided (its ambiguous dates are refused).
    """
    day_first = month_first = False
    for raw in raws:
        match = SLASH_DATE.match(raw) if isinstance(raw, str) else None
        if match:
            day_first = day_first or int(match[1]) > 12
            month_first = month_first or int(match[2]) > 12
    if day_first == month_first:
        return None
    return "dmy" if day_first else "mdy"


def _slash_date(text: str, order: str | None) -> datetime:
    stripped = text.strip()
    match = SLASH_DATE.match(stripped)
    assert match is not None
    first, second = int(match[1]), int(match[2])
    if order is None:
        if first <= 12 and second <= 12 and first != second:
            raise ValueError(
                f"time {text!r}: the day/month order is not known ({first} {_MONTHS[second]} "
                f"or {second} {_MONTHS[first]}); set the device's time_encoding, e.g. "
                "time_encoding='%m/%d/%Y %H:%M' (month first, as Accuenergy tools write) or "
                "'%d/%m/%Y %H:%M'"
            )
        order = "mdy" if second > 12 else "dmy"
    date_format = "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y"
    for clock in (" %H:%M:%S", " %H:%M", "T%H:%M:%S", "T%H:%M", ""):
        try:
            return datetime.strptime(stripped, date_format + clock)
        except ValueError:
            continue
    wanted = "day/month/year" if order == "dmy" else "month/day/year"
    raise ValueError(f"time {text!r} is not a {wanted} date with HH:MM[:SS]")


_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _iso(text: str, slash: str | None = None) -> datetime:
    cleaned = text.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        pass
    if SLASH_DATE.match(text):
        return _slash_date(text, slash)
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(
        f"time {text!r} is neither ISO-8601 (e.g. 2026-03-29T01:30:00+00:00) "
        "nor epoch seconds/milliseconds"
    )


def _to_ns(stamp: Any) -> int:
    delta: timedelta = stamp - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def is_naive_text(raw: Any) -> bool:
    """Whether a time value is text without a zone (read in the device zone)."""
    if raw is None or isinstance(raw, (bool, int, float)) or _is_number(raw):
        return False
    for order in ("dmy", "mdy"):
        try:
            return _iso(str(raw).strip(), order).tzinfo is None
        except ValueError:
            continue
    return False


def slash_order_near(raw: Any, instant_s: float, hours: float = 14.0) -> str | None:
    """The day/month order under which a slash date lies within `hours` of an instant.

    None when the value is not an ambiguous slash date or both (or neither)
    orders fit: only a single fitting order proves it.
    """
    text = str(raw).strip() if isinstance(raw, str) else ""
    if not SLASH_DATE.match(text):
        return None
    fits = []
    for order in ("dmy", "mdy"):
        try:
            naive = _slash_date(text, order)
        except ValueError:
            continue
        if abs(naive.replace(tzinfo=UTC).timestamp() - instant_s) <= hours * 3600:
            fits.append(order)
    return fits[0] if len(fits) == 1 else None


_NON_FINITE = re.compile(r"(?<![\w\"])(-?Infinity|NaN)(?![\w\"])")


def load_json(text: str, name: str) -> Any:
    """A JSON document; the literals NaN and Infinity (not JSON) are refused by position.

    Raises:
        SourceError: for text that is not JSON, naming line and column
            (`NotANumberLiteral` for a NaN/Infinity literal, naming its field).
    """
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", file=name
        ) from None
    except _NonFinite as exc:
        match = _NON_FINITE.search(text)
        where = ""
        if match is not None:
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            before = text[max(0, match.start() - 200) : match.start()]
            key = re.findall(r'"([^"]+)"\s*:\s*$', before)
            field = f" (field {key[-1]!r})" if key else ""
            where = f" at line {line} column {column}{field}"
        raise NotANumberLiteral(
            f"JSON literal {exc}{where} is not a number; send null for a missing value",
            file=name,
        ) from None


class NotANumberLiteral(SourceError):
    """A body with a NaN/Infinity literal: not JSON, refused (never held) by the listener."""


class _NonFinite(ValueError):
    """A NaN/Infinity literal in a JSON body."""


def _refuse_constant(literal: str) -> Any:
    raise _NonFinite(literal)


def csv_rows(text: str, name: str, delimiter: str = ",") -> list[list[str]]:
    """The rows of a CSV body (any line ends; NUL bytes and bad quoting refused by name).

    Raises:
        SourceError: when the text cannot be split into CSV rows.
    """
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise SourceError(f"not a readable CSV body: {exc}", file=name) from None


def iso_of(time_ns: int) -> str:
    """ISO-8601 UTC text of epoch nanoseconds (for notes and messages)."""
    return str(pd.Timestamp(time_ns, tz="UTC").isoformat())


def dig(document: Any, path: str) -> Any:
    """The value at a dotted `path` (``a.b.0.c``) in nested dicts/lists, or None."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.lstrip("-").isdigit():
            index = int(part)
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


PushParser = Callable[[bytes, str, Mapping[str, Any]], PointColumns]


def read_whole(
    source: Source, options: Mapping[str, Any], parse: PushParser
) -> Iterator[ReadingBatch]:
    """Read a push body or device file whole and yield its readings as one batch.

    The push connectors share this `Connector.read`: their bodies are small (the
    listener caps them) and parse as one document.
    """
    with source.open() as handle:
        data = handle.read()
    yield parse(data, source.name, options).to_batch(options)
