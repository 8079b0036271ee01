"""A push body's content: Content-Encoding undone strictly within the cap, multipart split.

Framing (Content-Length, chunked) is aiohttp's; this module takes the bytes
it delivered. gzip/deflate are undone here rather than by aiohttp because a
push must be whole: aiohttp accepts a gzip stream cut short and ignores a
second gzip member, which would journal half a body. Decompression stops at
the cap, so a decompression bomb gets 413, not memory. Multipart bodies are
split by the `multipart` package's sans-I/O parser (the body is all in memory:
no stream, no event loop); each part's name and file name are read as
aiohttp's parser reads them (`disposition_names`).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import multipart
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

DEFAULT_NAME = "push-body"
MAX_BOUNDARY = 70  # characters (RFC 2046 §5.1.1)
MAX_PART_HEADER_BYTES = 8190  # a part's header line, and at most this many header lines:
MAX_PART_HEADERS = 128  # the limits aiohttp's reader had
PRIVATE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class BodyError(Exception):
    """A body that cannot be used; `status` is the HTTP answer to give."""

    def __init__(self, status: int, message: str, *, incomplete: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.incomplete = incomplete  # the body ends early (kept as an incomplete capture)


@dataclass
class Payload:
    """What the listener hands to the device's intake.

    Attributes:
        data: the body (decoded), or a multipart body's file part.
        name: the file part's name, else the body's Content-Disposition file name,
            else ``push-body``.
        content_type: the body's (or the file part's) content type.
        fields: a multipart body's other form fields.
        headers: the request headers, without credentials (Authorization, cookies,
            anything naming a token).
    """

    data: bytes
    name: str
    content_type: str
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def too_large(limit: int) -> BodyError:
    """The 413 error for `limit`."""
    return BodyError(413, f"body is larger than the {limit}-byte limit (listener.max_body_bytes)")


def decode_body(data: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo Content-Encoding (gzip, deflate, identity), never beyond `limit` bytes.

    The compressed stream must end exactly where the body ends: a truncated
    stream, trailing bytes or a second gzip member are refused.

    Raises:
        BodyError: 413 when the decompressed body exceeds the limit, 400 when
            it is corrupt or incomplete, 415 for an unknown encoding.
    """
    coding = (encoding or "identity").strip().lower()
    if coding in ("identity", ""):
        return data
    if coding in ("gzip", "x-gzip"):
        wbits = 31
    elif coding == "deflate":
        wbits = 15
    else:
        raise BodyError(415, f"Content-Encoding {encoding!r} is not supported (use gzip)")
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BodyError(400, f"body is not valid {coding} data ({exc})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise too_large(limit)
    if not inflater.eof:
        raise BodyError(
            400, f"{coding} body is incomplete (the stream was cut short)", incomplete=True
        )
    if inflater.unused_data:
        raise BodyError(400, f"{coding} body has data after its end (several members?)")
    return out


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request headers without credentials (names lower-cased)."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in PRIVATE_HEADERS or "token" in lower or "secret" in lower:
            continue
        kept[lower] = value
    return kept


def body_file_name(disposition: str | None) -> str:
    """The file name of a raw body's Content-Disposition, else ``push-body``."""
    if not disposition:
        return DEFAULT_NAME
    _kind, params = multipart.parse_content_disposition(disposition)
    return multipart.content_disposition_filename(params, "filename") or DEFAULT_NAME


def prepare_payload(data: bytes, headers: Mapping[str, str], limit: int) -> Payload:
    """The body as the device's reader takes it: decoded, split when multipart.

    Runs on a listener worker thread (it may inflate or split 10 MB).

    Raises:
        BodyError: see `decode_body` and `split_multipart`.
    """
    encoding = headers.get("Content-Encoding")
    if encoding:
        data = decode_body(data, encoding, limit)
    content_type = headers.get("Content-Type", "application/octet-stream")
    if is_multipart(content_type):
        return split_multipart(data, content_type, headers)
    return raw_payload(data, headers)


def prepare_small_payload(data: bytes, headers: Mapping[str, str]) -> Payload | None:
    """`prepare_payload` of a small body without Content-Encoding, on the event loop.

    None when it would take more than a few steps there (an encoded body, which
    may inflate to the cap): then call `prepare_payload` on a worker thread.

    Raises:
        BodyError: see `split_multipart`.
    """
    if headers.get("Content-Encoding"):
        return None
    content_type = headers.get("Content-Type", "application/octet-stream")
    if is_multipart(content_type):
        return split_multipart(data, content_type, headers)
    return raw_payload(data, headers)


def split_multipart(data: bytes, content_type: str, headers: Mapping[str, str]) -> Payload:
    """The file part of a multipart/form-data body and its other fields.

    The file part is the first part with a file name (else the first named
    ``file``); every other part is a form field (text, UTF-8). A part's
    Content-Transfer-Encoding (base64, quoted-printable) is undone, as
    aiohttp's reader did.

    Raises:
        BodyError: 400 for a body that is not valid multipart or has no file part.
    """
    fields: dict[str, str] = {}
    file_part: tuple[bytes, str, str] | None = None
    try:
        for segment, body in _parts(data, _boundary(content_type)):
            name, filename = disposition_names(segment.header("Content-Disposition"))
            body = _transfer_decoded(body, segment.header("Content-Transfer-Encoding"))
            if filename is not None or (name == "file" and file_part is None):
                if file_part is None:
                    kind = (segment.header("Content-Type") or "").strip()
                    file_part = (body, filename or DEFAULT_NAME, kind or "application/octet-stream")
            else:
                fields[str(name or "")] = body.decode("utf-8", "replace")
    except (MultipartError, ValueError) as exc:  # binascii.Error is a ValueError
        raise BodyError(400, f"multipart/form-data body could not be split: {exc}") from None
    if file_part is None:
        names = ", ".join(fields) or "none"
        raise BodyError(400, f"multipart body has no file part (fields: {names})")
    data, name, kind = file_part
    return Payload(data, name, kind, fields, safe_headers(headers))


def _boundary(content_type: str) -> str:
    """The boundary of a multipart Content-Type (1 to 70 characters)."""
    boundary = parse_options_header(content_type)[1].get("boundary") or ""
    if not boundary:
        raise ValueError(f"no boundary in Content-Type: {content_type[:100]!r}")
    if len(boundary) > MAX_BOUNDARY:
        raise ValueError(f"boundary {boundary[:80]!r} is too long ({MAX_BOUNDARY} chars max)")
    return boundary


def _parts(data: bytes, boundary: str) -> list[tuple[MultipartSegment, bytes]]:
    """Every part of a multipart body (its headers, its bytes) in order.

    Raises:
        MultipartError: for a body that is not multipart with this boundary,
            or ends before its closing boundary.
    """
    parts: list[tuple[MultipartSegment, bytes]] = []
    chunks: list[bytes] = []
    segment: MultipartSegment | None = None
    with PushMultipartParser(
        boundary,
        len(data),
        max_header_size=MAX_PART_HEADER_BYTES,
        max_header_count=MAX_PART_HEADERS,
    ) as parser:  # closing checks that the body reached its closing boundary
        for event in parser.parse(data):
            if isinstance(event, MultipartSegment):
                segment, chunks = event, []
            elif event is None:
                assert segment is not None  # the parser starts every part with its headers
                parts.append((segment, b"".join(chunks)))
            else:
                chunks.append(event)
    return parts


def _transfer_decoded(body: bytes, coding: str | None) -> bytes:
    """A part's bytes with its Content-Transfer-Encoding undone (RFC 7578 deprecates it).

    Raises:
        ValueError: for bad base64, or an unknown encoding.
    """
    if coding is None:
        return body
    kind = coding.strip().lower()
    if kind == "base64":
        return base64.b64decode(body)
    if kind == "quoted-printable":
        return binascii.a2b_qp(body)
    if kind in ("binary", "8bit", "7bit"):
        return body
    raise ValueError(f"unknown content transfer encoding: {coding[:40]!r}")


_PLAIN_DISPOSITION = re.compile(r'\s*form-data\s*((?:;\s*(?:name|filename)="[^"\\;]*"\s*)*)')
_PLAIN_PARAM = re.compile(r'(name|filename)="([^"\\;]*)"')


def disposition_names(header: str | None) -> tuple[str | None, str | None]:
    """(name, file name) of a form part's Content-Disposition, as aiohttp's part reads them.

    The plain form (``form-data; name="…"; filename="…"``, no escapes, no
    repeated or extended parameters) is read here in one step; anything else
    by aiohttp's parser, which takes about 40 µs a call.
    """
    if header and _PLAIN_DISPOSITION.fullmatch(header):
        found = _PLAIN_PARAM.findall(header)
        params = {key: value.lstrip("/") for key, value in found}
        if len(params) == len(found):
            return params.get("name"), params.get("filename")
    _kind, params = multipart.parse_content_disposition(header)
    name = multipart.content_disposition_filename(params, "name")
    return name, multipart.content_disposition_filename(params, "filename")


def is_multipart(content_type: str) -> bool:
    """Whether a content type is multipart/form-data."""
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def raw_payload(data: bytes, headers: Mapping[str, Any]) -> Payload:
    """A non-multipart body as the reader's input."""
    content_type = str(headers.get("Content-Type") or "application/octet-stream")
    name = body_file_name(headers.get("Content-Disposition"))
    return Payload(data, name, content_type, {}, safe_headers(headers))
