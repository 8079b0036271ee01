"""The text around a table: encoding, line endings, preamble, header, what a non-CSV is.

Works on the first bytes of a file only (the head), so sniffing and finding
the header stay cheap for files of any size.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from connectors.base import SourceError

LINE_BREAK = re.compile(rb"\r\n|\r|\n")
MAX_HEADER_LINE = 60


@dataclass(frozen=True)
class HeadLine:
    """One physical line of the head: 1-based number, byte offset of the next line, text."""

    number: int
    end: int
    text: str


@dataclass(frozen=True)
class TextInfo:
    """What the head says about the file: encoding, delimiter, lines."""

    encoding: str
    delimiter: str
    lines: list[HeadLine]


def what_it_looks_like(head: bytes) -> str | None:
    """A description when `head` is clearly not a delimited text file, else None."""
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    lower = body[:2048].lower()
    if lower.startswith((b"<!doctype html", b"<html")) or b"<html" in lower[:512]:
        title = re.search(rb"<title>(.*?)</title>", body[:8192], re.I | re.S)
        named = f" titled {title.group(1).decode('utf-8', 'replace').strip()!r}" if title else ""
        return f"an HTML web page{named} (a portal error or login page?), not a CSV export"
    if lower.startswith(b"<?xml") or lower.startswith(b"<"):
        return "an XML/HTML document, not a CSV export"
    if body.startswith(b"PK\x03\x04"):
        return "a ZIP archive or Excel workbook (.xlsx); save it as CSV first"
    if body.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Excel workbook (.xls); save it as CSV first"
    if body.startswith(b"%PDF"):
        return "a PDF document, not a CSV export"
    if body.startswith((b"{", b"[{")):
        return "a JSON document, not a CSV export"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "a UTF-16 text file; save it as CSV UTF-8 (comma delimited) first"
    sample = head[:4096]
    if sample.count(b"\x00") > len(sample) // 20:  # a few stray NULs are only noise
        return "a binary file, not a CSV export"
    return None


def reject_non_csv(head: bytes, label: str) -> None:
    """Raise SourceError when the head is not delimited text.

    Raises:
        SourceError: naming the file and what it looks like.
    """
    looks = what_it_looks_like(head)
    if looks:
        raise SourceError(f"this file looks like {looks}; nothing was read", file=label)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise SourceError("the file is empty; nothing was read", file=label)


def decode_head(head: bytes) -> TextInfo:
    """Split the head into physical lines (CR, LF or CRLF) and find the delimiter."""
    encoding = "utf-8"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the end of the head
            encoding = "latin-1"
    lines: list[HeadLine] = []
    start, number = 0, 1
    for match in LINE_BREAK.finditer(head):
        raw = head[start : match.start()]
        lines.append(HeadLine(number, match.end(), _text(raw, encoding)))
        start, number = match.end(), number + 1
    return TextInfo(encoding, _delimiter(lines), lines)


def _text(raw: bytes, encoding: str) -> str:
    return raw.decode(encoding, "replace").lstrip("\ufeff")


def _delimiter(lines: list[HeadLine]) -> str:
    for line in lines[:3]:
        if line.text.strip().lower().startswith("sep=") and len(line.text.strip()) > 4:
            return line.text.strip()[4]
    best, count = ",", 0
    for candidate in (",", ";", "\t", "|"):
        seen = max((line.text.count(candidate) for line in lines[:MAX_HEADER_LINE]), default=0)
        if seen > count:
            best, count = candidate, seen
    return best


def split_line(text: str, delimiter: str) -> list[str]:
    """The fields of one CSV line (quotes honoured), stripped."""
    rows = list(csv.reader([text], delimiter=delimiter))
    return [field.strip() for field in rows[0]] if rows else []


def candidate_headers(info: TextInfo) -> list[tuple[HeadLine, list[str]]]:
    """Lines that could be the header: the first lines with several fields."""
    found = []
    for line in info.lines[:MAX_HEADER_LINE]:
        fields = split_line(line.text, info.delimiter)
        if len(fields) >= 3:
            found.append((line, fields))
    return found


def data_width(info: TextInfo, header: HeadLine) -> int | None:
    """The most common field count of the data lines after the header in the head."""
    counts: dict[int, int] = {}
    for line in info.lines[header.number : header.number + 20]:
        fields = split_line(line.text, info.delimiter)
        if len(fields) > 2:
            counts[len(fields)] = counts.get(len(fields), 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None
