"""Shared pieces of the push readers: point columns, values and time parsing.

Push payloads are small (a batch of points per request) and arrive hundreds of
times a second, so the readers collect plain Python columns (`PointColumns`)
and the listener turns many requests into one DataFrame at once; `read()` of
each connector wraps the same columns into a `ReadingBatch` for file use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.arrays import ArrowStringArray

from connectors.base import (
    STRING_DTYPE,
    Problem,
    ProblemKind,
    ReadingBatch,
    Source,
    SourceError,
)
from connectors.push.registers import difference_frame

MISSING_TEXT = frozenset({"", "nan", "-nan", "+nan", "----", "null", "none", "n/a"})
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


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone `name` (UTC when empty).

    Raises:
        SourceError: for an unknown zone name.
    """
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise SourceError(f"unknown time zone {name!r} in the device settings") from None


def parse_value(raw: Any) -> float | None:
    """A reading value, or None when the device marks it missing.

    `nan`, `-nan`, `----`, empty and null are missing (not zero).

    Raises:
        ValueError: for text that is not a number.
    """
    if raw is None or isinstance(raw, bool):
        if isinstance(raw, bool):
            return float(raw)
        return None
    if isinstance(raw, (int, float)):
        number = float(raw)
    else:
        text = str(raw).strip()
        if text.lower() in MISSING_TEXT:
            return None
        number = float(text)
    return None if math.isnan(number) else number if math.isfinite(number) else None


class TimeParser:
    """Turns a device's time values into UTC epoch nanoseconds.

    Encodings: ``auto`` (numbers are epoch seconds, or milliseconds above 1e11;
    text is ISO-8601, with or without offset), ``iso``, ``epoch_s``,
    ``epoch_ms``, ``local`` (naive text in the device zone) or a `strptime`
    format containing ``%``. Naive times are in the device zone (default UTC).
    Ambiguous local times (the repeated hour when clocks go back) resolve by
    order: once the times of a batch step backwards into the repeated hour,
    the later (standard-time) reading is meant; an ambiguous time with no such
    evidence is refused, naming the value.
    """

    def __init__(self, tz: str | None = "UTC", encoding: str = "auto") -> None:
        self.zone = zone(tz)
        self.encoding = encoding or "auto"
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
        for stamp, fold in zip(stamps, folds, strict=True):
            if isinstance(stamp, (int, str)):
                out.append(stamp)
            elif stamp.tzinfo is not None:
                out.append(_to_ns(stamp))
            elif fold is None:
                out.append(
                    f"local time is ambiguous in {self.zone.key} (clocks went back); "
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
            stamp = _iso(text)
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
            raise ValueError(f"local time does not exist in {self.zone.key} (clocks went forward)")
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


def _roundtrip(stamp: datetime) -> datetime:
    return stamp.astimezone(UTC).astimezone(stamp.tzinfo).replace(tzinfo=None)


def _is_number(raw: Any) -> bool:
    if isinstance(raw, (int, float)):
        return True
    text = str(raw).strip()
    return bool(text) and text.lstrip("+-").replace(".", "", 1).isdigit()


def _iso(text: str) -> datetime:
    cleaned = text.replace("Z", "+00:00").replace("z", "+00:00")
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        pass
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"):
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
