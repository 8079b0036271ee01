"""What a generic readings CSV looks like: encoding, preamble, delimiter, header, columns.

Everything here works on the first bytes of the file (the head), so it is
cheap and can run before any row is read.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import SourceError

DELIMITERS = (",", ";", "\t", "|")
ROLES = ("id", "time", "value", "quantity", "estimated", "note")
OPTIONAL_ROLES = ("quantity", "estimated", "note")

# Header names recognised per role, best first (compared lower-case, alphanumerics only).
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "id": (
        "sourceid",
        "id",
        "meterid",
        "meter",
        "channelid",
        "channel",
        "channelimportid",
        "meterimportid",
        "importid",
        "source",
        "mpan",
        "mprn",
        "point",
        "pointid",
        "device",
        "deviceid",
        "sensor",
        "sensorid",
        "serial",
        "meterserial",
        "serialnumber",
        "meternumber",
        "meterno",
        "tag",
        "datapoint",
        "register",
        "registerid",
        "esiid",
        "uspid",
    ),
    "time": (
        "time",
        "timestamp",
        "datetime",
        "readingtime",
        "readtime",
        "intervalend",
        "intervalending",
        "endtime",
        "periodend",
        "end",
        "readingdate",
        "readdate",
        "when",
        "date",
        "intervalstart",
        "starttime",
        "periodstart",
        "start",
    ),
    "value": (
        "value",
        "reading",
        "readingvalue",
        "kwh",
        "usage",
        "consumption",
        "energy",
        "use",
        "read",
        "amount",
        "quantityvalue",
        "kw",
        "demand",
        "val",
        "data",
    ),
    "quantity": ("quantity", "unit", "units", "uom", "unitofmeasure", "measure"),
    "estimated": (
        "estimated",
        "estimate",
        "isestimated",
        "estimatedflag",
        "est",
        "actualestimated",
    ),
    "note": ("note", "notes", "comment", "comments", "remark", "remarks", "memo"),
}
# Words that a header of the role contains (second pass, when no name matched exactly).
FUZZY_WORDS: dict[str, tuple[str, ...]] = {
    "time": ("timestamp", "datetime", "time", "date", "interval", "period"),
    "value": ("value", "kwh", "reading", "usage", "consumption", "energy", "kw", "wh"),
    "id": ("meter", "channel", "mpan", "mprn", "device", "sensor", "serial", "point", "source"),
}
# Words of a categorical column's name: never preferred as the id (`Channel Type`).
CATEGORY_WORDS = ("type", "kind", "class", "category", "status", "unit", "flag", "quality")
ID_DIGITS = re.compile(r"^\d[\d ]{5,20}$")  # MPAN cores (13 digits), MPRNs (6-10), serials
SAMPLE_ROWS = 20
DATE_NAMES = ("date", "readingdate", "readdate", "day")
CLOCK_NAMES = ("time", "clock", "timeofday", "hour")
START_HINTS = ("start", "begin", "from")

# Why content that is not a CSV is not one, recognised from its first bytes.
_LOOKS_LIKE: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive or Excel workbook (save it as CSV first)"),
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office document (save it as CSV first)"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
    (b"<?xml", "an XML document"),
)


def _norm(label: str) -> str:
    return re.sub(r"[^0-9a-z]", "", label.lower())


def looks_like(head: bytes) -> str | None:
    """Say what `head` looks like when it is not delimited text, else None."""
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    for magic, what in _LOOKS_LIKE:
        if body.startswith(magic):
            return what
    if b"\x00" in head[:4096]:
        return "a binary file (it contains NUL bytes)"
    lower = body[:1024].lower()
    if lower.startswith(b"<!doctype html") or b"<html" in lower or lower.startswith(b"<head"):
        return "an HTML page (perhaps a login or error page saved instead of the data)"
    if body[:1] in (b"{", b"["):
        return "JSON, not CSV (use the readings-json connector)"
    if not body:
        return "an empty file"
    return None


def decode_head(head: bytes) -> tuple[str, str]:
    """Decode the head; returns (text, encoding for pandas)."""
    raw = head.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 4:  # a multi-byte character cut by the head's end
            return raw[: exc.start].decode("utf-8"), "utf-8-sig"
    return raw.decode("cp1252", errors="replace"), "cp1252"


@dataclass
class Layout:
    """The shape of the file: where the header is, how cells are separated."""

    header: list[str]
    header_line: int  # 1-based physical line of the header
    delimiter: str
    encoding: str
    notes: list[str] = field(default_factory=list)
    sample: list[list[str]] = field(default_factory=list)  # the first rows after the header


def find_layout(head: bytes, name: str, options: Mapping[str, Any]) -> Layout:
    """Locate the header and the delimiter.

    Raises:
        SourceError: when the content is not a CSV or has no header line.
    """
    what = looks_like(head)
    if what is not None:
        raise SourceError(f"this is not a readings CSV: it looks like {what}", file=name)
    text, encoding = decode_head(head)
    lines = text.splitlines()
    index, sep = _skip_preamble(lines)
    if index is None:
        raise SourceError("no header line found in the first 64 KiB", file=name)
    delimiter = options.get("delimiter") or sep or _guess_delimiter(lines[index])
    delimiter = "\t" if delimiter in ("\\t", "tab", "TAB") else str(delimiter)
    if len(delimiter) != 1 or delimiter in ('"', "\n", "\r"):
        raise SourceError(f"the delimiter must be one character, not {delimiter!r}", file=name)
    opened = [i for i, line in enumerate(lines[: index + 1]) if line.count('"') % 2]
    if opened:
        raise SourceError(
            f"line {opened[0] + 1} (at or before the header, line {index + 1}) has a quote "
            f"that is never closed: {lines[opened[0]][:120]!r}; nothing was read",
            file=name,
        )
    header = next(csv.reader([lines[index]], delimiter=delimiter))
    after = [line for line in lines[index + 1 : index + 1 + SAMPLE_ROWS] if line.strip()]
    sample = [row for row in csv.reader(after, delimiter=delimiter) if row]
    return Layout([h.strip() for h in header], index + 1, delimiter, encoding, sample=sample)


def _skip_preamble(lines: list[str]) -> tuple[int | None, str | None]:
    sep = None
    for index, line in enumerate(lines):
        stripped = line.strip().strip('"')
        if not stripped:
            continue
        if stripped.lower().startswith("sep=") and sep is None and len(stripped) <= 6:
            sep = stripped[4:] or None
            continue
        return index, sep
    return None, sep


def _guess_delimiter(line: str) -> str:
    counts = {d: _count_outside_quotes(line, d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    return sum(unquoted.count(delimiter) for unquoted in line.split('"')[::2])


@dataclass
class Columns:
    """The 0-based column index of each role (time may be a date + clock pair)."""

    index: dict[str, tuple[int, ...]]
    labels: dict[str, str]
    automatic: list[str]

    def number(self, role: str) -> int:
        """1-based number of the (first) column of a role."""
        return self.index[role][0] + 1


def choose_columns(
    header: list[str],
    options: Mapping[str, Any],
    name: str,
    sample: list[list[str]] | None = None,
) -> Columns:
    """Resolve each role to columns: the options' names/numbers first, else by header name.

    Among header names that only resemble an id (`MPAN core`, `Channel Type`), the
    column whose first rows (`sample`) look most like identifiers wins.

    Raises:
        SourceError: when a named column is not in the header, or id/time/value
            cannot be decided; the message lists the header.
    """
    index: dict[str, tuple[int, ...]] = {}
    automatic: list[str] = []
    for role in ROLES:
        given = options.get(f"{role}_column")
        if given not in (None, ""):
            index[role] = _resolve(str(given), header, role, name)
    taken = {i for cols in index.values() for i in cols}
    for role in ROLES:
        if role not in index:
            _take(index, automatic, taken, role, _recognise(role, header, taken))
    for role in ("time", "value"):
        if role not in index:
            _take(index, automatic, taken, role, _resemble(role, header, taken))
    if "id" not in index:
        _take(index, automatic, taken, "id", _resemble_id(header, taken, sample or []))
    missing = [r for r in ("id", "time", "value") if r not in index]
    if missing:
        raise SourceError(
            f"cannot tell which column holds the {', '.join(missing)}; the header is "
            f"{header}; name them with --id-column/--time-column/--value-column "
            "(header name or 1-based number; by number if the file has no header line)",
            file=name,
        )
    labels = {r: "+".join(header[i] or str(i + 1) for i in cols) for r, cols in index.items()}
    return Columns(index=index, labels=labels, automatic=automatic)


def _resolve(given: str, header: list[str], role: str, name: str) -> tuple[int, ...]:
    if "+" in given and given not in header:
        return tuple(i for column in given.split("+") for i in _resolve(column, header, role, name))
    lowered = [h.lower() for h in header]
    if given.strip().lower() in lowered:
        return (lowered.index(given.strip().lower()),)
    if given.strip().isdigit() and 1 <= int(given) <= len(header):
        return (int(given) - 1,)
    raise SourceError(
        f"the {role} column {given!r} is neither a header name nor a column number "
        f"1..{len(header)}; the header is {header}",
        file=name,
    )


def _recognise(role: str, header: list[str], taken: set[int]) -> tuple[int, ...] | None:
    normed = [_norm(h) if i not in taken else "" for i, h in enumerate(header)]
    if role == "time":
        pair = _date_and_clock(normed)
        if pair and not any(n in ("datetime", "timestamp") for n in normed):
            return pair
    for candidate in ROLE_NAMES[role]:
        if candidate in normed:
            return (normed.index(candidate),)
    return None


def _take(
    index: dict[str, tuple[int, ...]],
    automatic: list[str],
    taken: set[int],
    role: str,
    found: tuple[int, ...] | None,
) -> None:
    if found:
        index[role] = found
        taken.update(found)
        automatic.append(role)


def _resemble(role: str, header: list[str], taken: set[int]) -> tuple[int, ...] | None:
    """Second pass: the first free column whose name contains a word of the role."""
    normed = [_norm(h) if i not in taken else "" for i, h in enumerate(header)]
    for word in FUZZY_WORDS[role]:
        for i, label in enumerate(normed):
            if label and word in label:
                return (i,)
    if role == "id":
        ids = [i for i, label in enumerate(normed) if label.endswith("id")]
        return (ids[0],) if ids else None
    return None


def _resemble_id(
    header: list[str], taken: set[int], sample: list[list[str]]
) -> tuple[int, ...] | None:
    """The free column that looks most like a meter id, by its name and its values."""
    normed = [_norm(h) if i not in taken else "" for i, h in enumerate(header)]
    named = [
        i
        for i, label in enumerate(normed)
        if label and (any(w in label for w in FUZZY_WORDS["id"]) or label.endswith("id"))
    ]
    if not named:
        return None
    return (max(named, key=lambda i: _id_likeness(i, normed[i], sample, named)),)


def _id_likeness(
    index: int, label: str, sample: list[list[str]], order: list[int]
) -> tuple[float, bool, float, int]:
    """How much a column looks like an identifier: MPAN/MPRN-like digits, a name that is
    not a category (`type`, `status` …), many distinct values, then header order."""
    values = [row[index].strip() for row in sample if index < len(row) and row[index].strip()]
    digits = sum(bool(ID_DIGITS.match(v)) for v in values) / len(values) if values else 0.0
    distinct = len(set(values)) / len(values) if values else 0.0
    category = any(word in label for word in CATEGORY_WORDS)
    return digits, not category, distinct, -order.index(index)


def says_utc(label: str) -> bool:
    """Whether a time column's header says its times are UTC (e.g. `Timestamp (UTC)`)."""
    return "utc" in _norm(label)


def _date_and_clock(normed: list[str]) -> tuple[int, int] | None:
    dates = [i for i, n in enumerate(normed) if n in DATE_NAMES]
    clocks = [i for i, n in enumerate(normed) if n in CLOCK_NAMES]
    if dates and clocks:
        return dates[0], clocks[0]
    return None


def says_start(label: str) -> bool:
    """Whether a time column's header suggests it marks interval starts."""
    return any(hint in label.lower() for hint in START_HINTS)
