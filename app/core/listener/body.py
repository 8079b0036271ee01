"""A push body's content: Content-Encoding undone strictly within the cap, multipart split.

Framing (Content-Length, chunked) is aiohttp's; this module takes the bytes
it delivered. gzip/deflate are undone here rather than by aiohttp because a
push must be whole: aiohttp accepts a gzip stream cut short and ignores a
second gzip member, which would journal half a body. Decompression stops at
the cap, so a decompression bomb gets 413, not memory. Multipart bodies are
split by aiohttp's `MultipartReader`.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import multipart
from aiohttp.streams import StreamReader

DEFAULT_NAME = "push-body"
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


class _InMemory:
    """The protocol an in-memory `StreamReader` needs (no flow control)."""

    _reading_paused = False
    connected = True

    def pause_reading(self) -> None:
        """Nothing to pause."""

    def resume_reading(self, resume_parser: bool = True) -> None:
        """Nothing to resume."""


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
        return split_multipart_now(data, content_type, headers)
    return raw_payload(data, headers)


def prepare_small_payload(data: bytes, headers: Mapping[str, str]) -> Payload | None:
    """`prepare_payload` of a small body without Content-Encoding, on the event loop.

    None when it would take more than a few steps there (an encoded body, which
    may inflate to the cap) or could not finish without waiting: then call
    `prepare_payload` on a worker thread.

    Raises:
        BodyError: see `split_multipart`.
    """
    if headers.get("Content-Encoding"):
        return None
    content_type = headers.get("Content-Type", "application/octet-stream")
    if is_multipart(content_type):
        return _split_in_one_step(data, content_type, headers)
    return raw_payload(data, headers)


_IDLE_LOOP = asyncio.new_event_loop()  # the in-memory stream's loop: never run, never waited on
_IDLE_LOOP.close()


def split_multipart_now(data: bytes, content_type: str, headers: Mapping[str, str]) -> Payload:
    """`split_multipart` without an event loop (the body is all in memory).

    aiohttp's reader is a coroutine, but on a stream already fed to its end
    it never waits, so it is driven to its end here in one step; were it
    ever to wait, it runs on a loop of its own instead.
    """
    split = _split_in_one_step(data, content_type, headers)
    if split is not None:
        return split
    return asyncio.run(split_multipart(data, content_type, headers))


def _split_in_one_step(
    data: bytes, content_type: str, headers: Mapping[str, str]
) -> Payload | None:
    """`split_multipart` driven in one step (no loop needed), or None if it would wait."""
    steps = split_multipart(data, content_type, headers, loop=_IDLE_LOOP)
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    steps.close()
    return None


async def split_multipart(
    data: bytes,
    content_type: str,
    headers: Mapping[str, str],
    loop: asyncio.AbstractEventLoop | None = None,
) -> Payload:
    """The file part of a multipart/form-data body and its other fields.

    Raises:
        BodyError: 400 for a body that is not valid multipart or has no file part.
    """
    loop = loop or asyncio.get_running_loop()
    stream = StreamReader(_InMemory(), len(data) + 1, loop=loop)  # type: ignore[arg-type]
    stream.feed_data(data)
    stream.feed_eof()
    fields: dict[str, str] = {}
    file_part: tuple[bytes, str, str] | None = None
    try:
        reader = multipart.MultipartReader({"Content-Type": content_type}, stream)
        while (part := await reader.next()) is not None:
            if not isinstance(part, multipart.BodyPartReader):
                raise BodyError(400, "nested multipart bodies are not supported")
            body = bytes(await part.read(decode=True))
            name, filename = disposition_names(part.headers.get("Content-Disposition"))
            if filename is not None or (name == "file" and file_part is None):
                if file_part is None:
                    kind = part.headers.get("Content-Type", "application/octet-stream")
                    file_part = (body, filename or DEFAULT_NAME, kind)
            else:
                fields[str(name or "")] = body.decode("utf-8", "replace")
    except (ValueError, AssertionError, RuntimeError) as exc:
        raise BodyError(400, f"multipart/form-data body could not be split: {exc}") from None
    if file_part is None:
        names = ", ".join(fields) or "none"
        raise BodyError(400, f"multipart body has no file part (fields: {names})")
    data, name, kind = file_part
    return Payload(data, name, kind, fields, safe_headers(headers))


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
