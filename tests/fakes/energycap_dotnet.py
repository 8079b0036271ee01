""".NET custom date and time format strings, parsed the way EnergyCAP (.NET) reads them.

Supported specifiers: yyyy yy MMMM MMM MM M dd d HH H hh h mm m ss s f..fffffff
F..FFFFFFF tt t zzz zz z K, quoted literals ('T', "at"), backslash escapes, and
any other character as a literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]

_TOKENS: tuple[tuple[str, str], ...] = (
    ("yyyy", r"(?P<year>\d{4})"),
    ("yy", r"(?P<year2>\d{2})"),
    ("MMMM", r"(?P<monthname>[A-Za-z]+)"),
    ("MMM", r"(?P<monthabbr>[A-Za-z]{3})"),
    ("MM", r"(?P<month>\d{2})"),
    ("M", r"(?P<month>\d{1,2})"),
    ("dd", r"(?P<day>\d{2})"),
    ("d", r"(?P<day>\d{1,2})"),
    ("HH", r"(?P<hour>\d{2})"),
    ("H", r"(?P<hour>\d{1,2})"),
    ("hh", r"(?P<hour12>\d{2})"),
    ("h", r"(?P<hour12>\d{1,2})"),
    ("mm", r"(?P<minute>\d{2})"),
    ("m", r"(?P<minute>\d{1,2})"),
    ("ss", r"(?P<second>\d{2})"),
    ("s", r"(?P<second>\d{1,2})"),
    ("tt", r"(?P<ampm>[AaPp][Mm])"),
    ("t", r"(?P<ampm>[AaPp])"),
    ("zzz", r"(?P<offset>[+-]\d{2}:\d{2})"),
    ("zz", r"(?P<offset>[+-]\d{2})"),
    ("z", r"(?P<offset>[+-]\d{1,2})"),
    ("K", r"(?P<offset>Z|[+-]\d{2}:\d{2})?"),
)


class FormatError(ValueError):
    """A value that does not match its .NET format."""


@dataclass(frozen=True)
class DotNetFormat:
    """A compiled .NET custom format string."""

    text: str
    pattern: re.Pattern[str]

    @property
    def has_offset(self) -> bool:
        """Whether the format carries a UTC offset (z, zz, zzz or K)."""
        return "offset" in self.pattern.groupindex

    def fields(self, value: str) -> dict[str, str]:
        """The named parts of `value`.

        Raises:
            FormatError: when the value does not match the format.
        """
        match = self.pattern.fullmatch(value.strip())
        if match is None:
            raise FormatError(f"'{value}' does not match the format '{self.text}'")
        return {k: v for k, v in match.groupdict().items() if v is not None}


def compile_format(text: str) -> DotNetFormat:
    """Compile a .NET custom format string into a regular expression.

    Raises:
        FormatError: when the format is empty or has an unterminated quote.
    """
    if not text:
        raise FormatError("empty date/time format")
    parts: list[str] = []
    seen: set[str] = set()
    i = 0
    while i < len(text):
        i = _next_part(text, i, parts, seen)
    return DotNetFormat(text, re.compile("".join(parts)))


def _next_part(text: str, i: int, parts: list[str], seen: set[str]) -> int:
    char = text[i]
    if char in "'\"":
        end = text.find(char, i + 1)
        if end < 0:
            raise FormatError(f"unterminated quote in format '{text}'")
        parts.append(re.escape(text[i + 1 : end]))
        return end + 1
    if char == "\\" and i + 1 < len(text):
        parts.append(re.escape(text[i + 1]))
        return i + 2
    if char in "fF":
        run = len(text[i:]) - len(text[i:].lstrip(char))
        digits = rf"\d{{{run}}}" if char == "f" else rf"\d{{0,{run}}}"
        parts.append(f"(?P<fraction>{digits})" if "fraction" not in seen else digits)
        seen.add("fraction")
        return i + run
    for token, regex in _TOKENS:
        if text.startswith(token, i):
            name = re.search(r"\?P<(\w+)>", regex)
            assert name is not None
            if name.group(1) in seen:  # a repeated field must not redefine its group
                regex = regex.replace(f"?P<{name.group(1)}>", "?:")
            seen.add(name.group(1))
            parts.append(regex)
            return i + len(token)
    parts.append(re.escape(char))
    return i + 1


def parse_datetime(date_fields: dict[str, str]) -> tuple[datetime, timezone | None]:
    """A naive datetime from the parsed fields, plus the offset when the text had one.

    Raises:
        FormatError: for impossible dates or times (e.g. 31 February, hour 25).
    """
    f = date_fields
    try:
        year = int(f["year"]) if "year" in f else 2000 + int(f.get("year2", "0"))
        hour = int(f.get("hour", 0))
        if "hour12" in f:
            hour = int(f["hour12"]) % 12 + (12 if f.get("ampm", "a")[0] in "Pp" else 0)
        fraction = f.get("fraction", "")
        value = datetime(
            year,
            _month(f),
            int(f.get("day", 1)),
            hour,
            int(f.get("minute", 0)),
            int(f.get("second", 0)),
            int((fraction + "000000")[:6]) if fraction else 0,
        )
    except (KeyError, ValueError) as error:
        raise FormatError(f"not a valid date/time: {error}") from None
    return value, _offset(f.get("offset"))


def _month(f: dict[str, str]) -> int:
    if "month" in f:
        return int(f["month"])
    name = f.get("monthname") or f.get("monthabbr")
    if name is None:
        return 1
    for number, month in enumerate(_MONTHS, start=1):
        if month == name.lower() or month[:3] == name.lower():
            return number
    raise ValueError(f"unknown month name {name!r}")


def _offset(text: str | None) -> timezone | None:
    if text is None or text == "":
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    hours, _, minutes = text[1:].partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
