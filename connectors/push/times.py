"""Device times to UTC epoch nanoseconds: encodings, zones, clock changes, slash dates.

Shared by the push readers (`connectors.push.common` re-exports these names).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from connectors.base import SourceError

EPOCH_MS_THRESHOLD = 100_000_000_000  # above: milliseconds (1e11 s would be year 5138)
TIME_ENCODINGS = ("auto", "iso", "epoch_s", "epoch_ms", "local")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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
        whole = self._whole_epochs(raws)
        return self._parse_each(raws) if whole is None else whole

    def _whole_epochs(self, raws: list[Any]) -> list[int | str] | None:
        """`_parse_each` of whole epoch numbers (digit text or ints, all in range) in a few
        C calls; None for anything else (then each value is read on its own)."""
        if not raws or self.encoding not in ("auto", "epoch_s", "epoch_ms"):
            return None
        try:
            text = "\n".join(raws)
        except TypeError:  # not all text: all ints (not bools)?
            if not _INT_TYPE.issuperset(map(type, raws)):
                return None
            numbers = list(raws)
        else:
            if _DIGIT_LINES.fullmatch(text) is None:
                return None
            try:
                numbers = list(map(int, raws))
            except ValueError:  # "0\n0" joins as two lines
                return None
        low, high = min(numbers), max(numbers)
        if self.encoding == "epoch_ms":
            scale = 1_000_000
        elif self.encoding == "epoch_s" or max(high, -low) < EPOCH_MS_THRESHOLD:
            scale = 1_000_000_000  # seconds (`_is_ms`)
        elif min(map(abs, numbers)) >= EPOCH_MS_THRESHOLD:
            scale = 1_000_000  # all milliseconds
        else:
            return None  # seconds and milliseconds mixed: one by one
        if not (low * scale >= MIN_NS and high * scale <= MAX_NS):
            return None  # outside the years a timestamp holds: named one by one
        self._slash = self.proven_slash  # as `slash_order` finds no slash date among them
        return [n * scale for n in numbers]

    def _parse_each(self, raws: list[Any]) -> list[int | str]:
        """`parse_all`, value by value."""
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
_DIGIT_LINES = re.compile(r"[0-9]{1,19}(?:\n[0-9]{1,19})*")  # no int() of 4,300 digits
_INT_TYPE = frozenset({int})


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


def iso_of(time_ns: int) -> str:
    """ISO-8601 UTC text of epoch nanoseconds (for notes and messages)."""
    return str(pd.Timestamp(time_ns, tz="UTC").isoformat())
