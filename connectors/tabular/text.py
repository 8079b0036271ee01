"""The text around a table: encoding, line endings, preamble, header, what a non-CSV is.

Works on the first bytes of a file only (the head), so sniffing and finding
the header stay cheap for files of any size.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from connectors.base import Source, SourceError

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


# Files that are not text, recognised from their first bytes.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image, not a CSV export"),
    (b"\xff\xd8\xff", "a JPEG image, not a CSV export"),
    (b"GIF8", "a GIF image, not a CSV export"),
    (b"\x1f\x8b", "a gzip-compressed file; decompress it first"),
    (b"PK\x03\x04", "a ZIP archive or Excel workbook (.xlsx); save it as CSV first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls); save it as CSV first"),
    (b"%PDF", "a PDF document, not a CSV export"),
)
# Byte-order marks of UTF-16 text, and what tools make of one (U+FFFD twice, in UTF-8).
UTF16_PREFIXES: tuple[bytes, ...] = (
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xef\xbf\xbd\xef\xbf\xbd",
    b"\xef\xbf\xbd",
    b"\xc3\xbf\xc3\xbe",
    b"\xef\xbb\xbf",
)


def utf16_layout(head: bytes) -> tuple[str, int] | None:
    """(codec, bytes before the text) when `head` is UTF-16 text, with or without a
    byte-order mark (even a mangled one), told from its NUL pattern; else None."""
    skip = next((len(p) for p in UTF16_PREFIXES if head.startswith(p)), 0)
    sample = head[skip : skip + 4096]
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0 : 2 * half : 2].count(0), sample[1 : 2 * half : 2].count(0)
    if odd >= 0.9 * half and even <= 0.1 * half:
        return "utf-16-le", skip
    if even >= 0.9 * half and odd <= 0.1 * half:
        return "utf-16-be", skip
    return None


def utf16_text(data: bytes, codec: str, skip: int) -> str:
    """The text of UTF-16 bytes (a last odd byte, as a cut file has, read as ASCII)."""
    body = data[skip:]
    if len(body) % 2:
        odd = body[-1:]
        body = body[:-1] + (odd + b"\x00" if codec == "utf-16-le" else b"\x00" + odd)
    return body.decode(codec, "replace")


def text_of(data: bytes) -> str:
    """The text of a whole (small) file: UTF-16 by its NULs, else UTF-8, else Latin-1."""
    found = utf16_layout(data[:4096])
    if found:
        return utf16_text(data, *found).lstrip("\ufeff")
    try:
        return data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def as_utf8(source: Source) -> Source:
    """`source` itself, or (UTF-16 text) an in-memory UTF-8 copy with the same label."""
    head = source.head(4096)
    found = utf16_layout(head)
    if found is None:
        return source
    with source.open() as handle:
        text = utf16_text(handle.read(), *found)
    return Source(name=source.label, data=text.encode("utf-8"))


def utf8_head(head: bytes) -> bytes:
    """`head` as UTF-8 bytes (UTF-16 text transcoded; anything else as it is)."""
    found = utf16_layout(head)
    return utf16_text(head, *found).encode("utf-8") if found else head


def what_it_looks_like(head: bytes) -> str | None:
    """A description when `head` is clearly not a delimited text file, else None."""
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    for magic, description in MAGIC:
        if head.startswith(magic) or body.startswith(magic):
            return description
    lower = body[:2048].lower()
    if lower.startswith((b"<!doctype html", b"<html")) or b"<html" in lower[:512]:
        title = re.search(rb"<title>(.*?)</title>", body[:8192], re.I | re.S)
        named = f" titled {title.group(1).decode('utf-8', 'replace').strip()!r}" if title else ""
        return f"an HTML web page{named} (a portal error or login page?), not a CSV export"
    if lower.startswith(b"<?xml") or lower.startswith(b"<"):
        return "an XML/HTML document, not a CSV export"
    if body.startswith((b"{", b"[{")):
        return "a JSON document, not a CSV export"
    if utf16_layout(head) is not None:
        return None  # text, read by transcoding it
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
