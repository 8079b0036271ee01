"""A small HTTP/1.1 server side for asyncio streams: requests in, answers out.

The push listener serves many keep-alive devices from one event-loop thread
(no thread per connection, so no GIL convoy under load). This module reads a
request head, reads its body within the cap (Content-Length checked before
reading, ``Expect: 100-continue`` answered, chunked bodies stopped at the
cap, refused bodies drained so the client sees the 413), and writes each
answer in one piece (asyncio sets TCP_NODELAY on TCP transports).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from app.core.listener.body import DRAIN_LIMIT, BodyError, too_large

MAX_HEAD = 64 * 1024


@dataclass
class Request:
    """A request head."""

    method: str
    target: str
    version: str
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        """A header value by case-insensitive name."""
        return self.headers.get(name.lower())

    @property
    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept open."""
        connection = (self.header("connection") or "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request head, or None when the client closed the connection.

    Raises:
        BodyError: 400 for a malformed head, 431 for one that is too large.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise BodyError(400, "request head ended early") from None
        return None
    except asyncio.LimitOverrunError:
        raise BodyError(431, "request head is too large") from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BodyError(400, f"bad request line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BodyError(400, f"bad header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return Request(parts[0], parts[1], parts[2], headers)


async def read_body(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limit: int
) -> bytes:
    """The request body, at most `limit` bytes.

    Raises:
        BodyError: 413 above the limit, 411 without a length, 400 when broken.
    """
    chunked = "chunked" in (request.header("transfer-encoding") or "").lower()
    length_text = request.header("content-length")
    if not chunked and length_text is None:
        raise BodyError(411, "send a Content-Length header (or a chunked body)")
    length = _length(length_text) if not chunked else None
    expect = (request.header("expect") or "").lower() == "100-continue"
    if length is not None and length > limit:
        if not expect:
            await _drain(reader, length)
        raise too_large(limit)
    if expect:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if chunked:
        return await _read_chunked(reader, limit)
    try:
        return await reader.readexactly(length or 0)
    except asyncio.IncompleteReadError as exc:
        raise BodyError(400, f"body ended after {len(exc.partial)} of {length} bytes") from None


def _length(text: str | None) -> int:
    try:
        length = int(text or "")
    except ValueError:
        raise BodyError(400, f"Content-Length {text!r} is not a number") from None
    if length < 0:
        raise BodyError(400, "Content-Length is negative")
    return length


async def _drain(reader: asyncio.StreamReader, length: int) -> None:
    """Discard a refused body so the client can read the answer (bounded)."""
    left = min(length, DRAIN_LIMIT)
    while left > 0:
        chunk = await reader.read(min(left, 1 << 16))
        if not chunk:
            return
        left -= len(chunk)


async def _read_chunked(reader: asyncio.StreamReader, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        line = (await reader.readline()).split(b";", 1)[0].strip()
        try:
            size = int(line, 16)
        except ValueError:
            raise BodyError(400, "broken chunked body (bad chunk size line)") from None
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(parts)
        total += size
        if total > limit:
            raise too_large(limit)
        try:
            parts.append(await reader.readexactly(size))
        except asyncio.IncompleteReadError:
            raise BodyError(400, "chunked body ended early") from None
        await reader.readline()


_date_cache: tuple[int, str] = (0, "")


def _date_header() -> str:
    """The HTTP Date value, formatted once per second."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, formatdate(second, usegmt=True))
    return _date_cache[1]


def answer_bytes(status: int, document: dict[str, Any], *, close: bool) -> bytes:
    """A whole JSON answer (head and body) as bytes for one write."""
    body = json.dumps(document).encode("utf-8")
    head = [
        f"HTTP/1.1 {status} {_phrase(status)}",
        "Server: meterbridge",
        f"Date: {_date_header()}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if status == 503:
        head.append("Retry-After: 60")
    if status == 401:
        head.append('WWW-Authenticate: Bearer realm="meterbridge", Basic realm="meterbridge"')
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


@lru_cache(maxsize=64)
def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"
