"""The listener's HTTP server: aiohttp's, with a connection cap and quiet error logs.

aiohttp (already a dependency; see pyproject.toml for why it was chosen)
frames requests strictly (llhttp): duplicate or malformed Content-Length,
unknown or repeated Transfer-Encoding, bad chunk sizes, bare LF, obsolete
line folding and oversized heads are answered 400 and the connection is
closed before our handler runs. This module adds what a LAN needs:

* a cap on open connections: past it, the connection idle longest (no
  request in progress) is closed to make room, else the newcomer is;
* idle connections (no complete request head) closed after
  ``idle_timeout_s`` (aiohttp's keep-alive timer also runs from the first byte);
* no lingering read of a refused body (the answer says ``Connection: close``);
* one log line per malformed request, never a traceback;
* the listening socket bound with exclusive address use on Windows (no
  ``SO_REUSEADDR`` there, which would let another process steal the port).
"""

from __future__ import annotations

import json
import logging
import socket
import sys
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

RESERVED_DESCRIPTORS = 128  # journal, captures, registers, pipes, delivery sockets, logs


class _Protocol(RequestHandler):  # type: ignore[misc]
    """aiohttp's connection handler with one-line logs for malformed requests."""

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            peer = self.transport.get_extra_info("peername") if self.transport else None
            message = str(exc.message).strip().splitlines()[0] if exc.message else ""
            log.info("malformed request from %s refused: %s %s", peer, exc.code, message)
            return
        super().log_exception(*args, **kw)


class CappedServer(web.Server):  # type: ignore[misc]
    """aiohttp's low-level server with at most `max_connections` open connections."""

    def __init__(self, handler: Any, *, max_connections: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.max_connections = max_connections
        self.busy: set[RequestHandler] = set()  # connections with a request in progress
        self.evicted = 0

    def __call__(self) -> RequestHandler:
        return _Protocol(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: Any) -> None:
        super().connection_made(handler, transport)
        if len(self._connections) <= self.max_connections:
            return
        for other, other_transport in self._connections.items():
            if other is not handler and other not in self.busy and not other_transport.is_closing():
                self.evicted += 1
                other_transport.abort()  # the longest-open idle connection makes room
                return
        self.evicted += 1
        transport.abort()  # every connection is busy: the newcomer goes

    def transports(self) -> list[Any]:
        """The transports of the open connections."""
        return list(self._connections.values())

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        self.busy.discard(handler)
        super().connection_lost(handler, exc)


def c_parser_missing() -> bool:
    """True when aiohttp runs its pure-Python parser (its C extension was not installed/bundled)."""
    from aiohttp import http_parser

    return bool(http_parser.HttpRequestParser is http_parser.HttpRequestParserPy)


def server_options(idle_timeout_s: float) -> dict[str, Any]:
    """Keyword arguments of `CappedServer` for aiohttp's connection handler."""
    return {
        "keepalive_timeout": idle_timeout_s,  # also from connect to the first complete head
        "lingering_time": 0,  # a refused body is never read
        "auto_decompress": False,  # `listener.body.decode_body` is strict about gzip
        "max_line_size": 8190,
        "max_field_size": 8190,
        "max_headers": 100,
        "access_log": None,
        "handler_cancellation": True,  # a client that goes away cancels its handler
    }


def raise_descriptor_limit() -> int:
    """Raise the soft open-file limit to the hard one (POSIX); the soft limit after."""
    try:
        import resource
    except ImportError:  # Windows: no per-process descriptor limit of this kind
        return 1 << 16
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return int(soft if soft != resource.RLIM_INFINITY else 1 << 20)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError) as exc:
        log.warning("could not raise the open-file limit from %s: %s", soft, exc)
        return int(soft)
    return int(wanted)


def connection_cap(setting: int, descriptors: int) -> int:
    """The connections to allow: the setting, within the open-file limit."""
    return max(16, min(int(setting), descriptors - RESERVED_DESCRIPTORS))


def bind_socket(host: str, port: int, backlog: int = 512) -> socket.socket:
    """A listening TCP socket (exclusive address use on Windows, SO_REUSEADDR elsewhere).

    Raises:
        OSError: when the address cannot be bound (e.g. the port is in use).
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if sys.platform == "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined]
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def answer(status: int, document: dict[str, Any], *, close: bool = False) -> web.Response:
    """A JSON answer; `close` ends the connection after it."""
    response = web.Response(
        status=status, body=json.dumps(document).encode("utf-8"), content_type="application/json"
    )
    response.headers["Server"] = "meterbridge"
    if status == 503:
        response.headers["Retry-After"] = "60"
    if status == 401:
        response.headers["WWW-Authenticate"] = (
            'Bearer realm="meterbridge", Basic realm="meterbridge"'
        )
    if close:
        response.force_close()
    return response
