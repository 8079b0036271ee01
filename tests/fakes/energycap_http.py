"""HTTP plumbing of the fake EnergyCAP: server, request pipeline, faults, recording.

Responses go out in one write with TCP_NODELAY, so loopback round trips take
well under a millisecond (Python's http.server otherwise waits ~40 ms).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import orjson

from tests.fakes.energycap_validate import BodyError

KEY_HEADER = "ECI-ApiKey"
REDACTED = "<redacted>"
BODY_METHODS = ("POST", "PUT", "PATCH")


@dataclass
class Answer:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    partial: int | None = None  # hostile: send only this many body bytes, then close
    stall_s: float = 0.0  # hostile: wait this long before closing a partial answer


def json_answer(payload: Any, status: int = 200) -> Answer:
    """A JSON answer."""
    return Answer(status, json.dumps(payload).encode("utf-8"))


def error_answer(status: int, message: str, errors: list[str] | None = None) -> Answer:
    """An EnergyCAP-like JSON error."""
    payload: dict[str, Any] = {"status": status, "message": message}
    if errors:
        payload["errors"] = errors
    return json_answer(payload, status)


@dataclass
class Fault:
    """An injected failure for requests whose path starts with `prefix`."""

    prefix: str
    status: int | None
    remaining: int | None  # None: until cleared (an outage)
    retry_after: float | None
    delay_s: float
    drop: bool


@dataclass
class RecordedRequest:
    """A request as the fake saw it; the API key's value is never kept."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    status: int | None = None  # None: the connection was dropped
    key_ok: bool = False


@dataclass
class Failure:
    """A request the fake refused with 400 (or 415), and why."""

    method: str
    path: str
    message: str
    problems: list[str]


class HttpFake:
    """The request pipeline: faults, auth, JSON body, routing, recording."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.failures: list[Failure] = []
        self._faults: list[Fault] = []
        self._hostile: list[Any] = []
        # ASP.NET Core's default request body limit (Kestrel MaxRequestBodySize).
        self.max_body_bytes = 30_000_000
        self._http_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Listen on 127.0.0.1 on a free port and serve in a background thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:54321."""
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- faults ---------------------------------------------------------------------------------
    def inject(
        self,
        path_prefix: str,
        status: int | None = 503,
        times: int | None = 1,
        retry_after: float | None = None,
        delay_s: float = 0.0,
        drop: bool = False,
    ) -> None:
        """Fail the next `times` requests whose path starts with `path_prefix`.

        `status` None with `delay_s` only slows the answer; `drop` closes the
        connection without answering; `times` None keeps failing until
        `clear_faults()` (an outage).
        """
        with self._http_lock:
            self._faults.append(Fault(path_prefix, status, times, retry_after, delay_s, drop))

    def outage(self, path_prefix: str = "/", status: int = 503, drop: bool = False) -> None:
        """Fail every matching request until `clear_faults()`."""
        self.inject(path_prefix, status=status, times=None, drop=drop)

    def clear_faults(self) -> None:
        """End all injected faults, outages and hostile modes."""
        with self._http_lock:
            self._faults.clear()
            self._hostile.clear()

    def hostile(
        self,
        mode: str,
        path_prefix: str = "/api/",
        times: int | None = None,
        *,
        value: str = "",
        status: int | None = None,
        stall_s: float = 5.0,
    ) -> None:
        """Answer matching requests with a hostile answer (see `energycap_hostile`).

        `times` None keeps doing so until `clear_hostile()`; applies after
        authentication, before routing (nothing is stored).
        """
        from tests.fakes.energycap_hostile import MODES, Hostile

        if mode not in MODES:
            raise ValueError(f"unknown hostile mode {mode!r}; known: {', '.join(MODES)}")
        with self._http_lock:
            self._hostile.append(Hostile(mode, path_prefix, times, value, status, stall_s))

    def clear_hostile(self) -> None:
        """Behave again."""
        with self._http_lock:
            self._hostile.clear()

    def _take_hostile(self, path: str) -> Any:
        with self._http_lock:
            for hostile in self._hostile:
                if path.startswith(hostile.prefix):
                    if hostile.remaining is not None:
                        hostile.remaining -= 1
                        if hostile.remaining <= 0:
                            self._hostile.remove(hostile)
                    return hostile
        return None

    def _take_fault(self, path: str) -> Fault | None:
        with self._http_lock:
            for fault in self._faults:
                if path.startswith(fault.prefix):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    # -- pipeline -------------------------------------------------------------------------------
    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Answer:
        """Answer one authenticated request (implemented by the fake)."""
        raise NotImplementedError

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> Answer | None:
        """Answer one request; None means: drop the connection."""
        path, _, query_text = target.partition("?")
        query = parse_qs(query_text)
        parsed = _strict_json(raw)  # parsed once: the record and the route share it
        as_recorded = _try_json(raw) if isinstance(parsed, Exception) else parsed
        record = RecordedRequest(method, path, query, _redact(headers), as_recorded)
        record.key_ok = headers.get(KEY_HEADER.lower()) == self.api_key
        with self._http_lock:
            self.requests.append(record)
        answer = self._answer(method, path, query, headers, raw, record, parsed)
        record.status = answer.status if answer else None
        return answer

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        raw: bytes,
        record: RecordedRequest,
        parsed: Any,
    ) -> Answer | None:
        fault = self._take_fault(path)
        if fault is not None:
            time.sleep(fault.delay_s)
            if fault.drop:
                return None
            if fault.status is not None:
                return _fault_answer(fault)
        if not record.key_ok:
            why = "missing" if KEY_HEADER.lower() not in headers else "not valid"
            return error_answer(401, f"Unauthorized: the {KEY_HEADER} header is {why}")
        hostile = self._take_hostile(path)
        if hostile is not None:
            from tests.fakes.energycap_hostile import AFTER_ROUTING, hostile_after, hostile_answer

            if hostile.mode not in AFTER_ROUTING:
                return hostile_answer(hostile, _try_json(raw))
        body, refused = self._body(method, path, headers, raw, parsed)
        if refused is not None:
            return refused
        try:
            answer = self.route(method, path, query, body)
            return answer if hostile is None else hostile_after(hostile, answer)
        except BodyError as error:
            self.failures.append(Failure(method, path, str(error), error.problems))
            return error_answer(400, f"The request is invalid: {error}", error.problems)

    def _body(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, parsed: Any
    ) -> tuple[Any, Answer | None]:
        if method not in BODY_METHODS or not raw:
            return None, None
        if len(raw) > self.max_body_bytes:
            message = f"Request body of {len(raw)} bytes exceeds {self.max_body_bytes} bytes"
            self.failures.append(Failure(method, path, message, [message]))
            return None, error_answer(413, message)
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            message = f"Content-Type must be application/json, got {kind or 'none'!r}"
            self.failures.append(Failure(method, path, message, [message]))
            return None, error_answer(415, message)
        if isinstance(parsed, Exception):
            message = f"The request body is not valid JSON: {parsed}"
            self.failures.append(Failure(method, path, message, [message]))
            return None, error_answer(400, message)
        return parsed, None


_DIGITS_AS_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_RUN = b"0" * 19  # integers orjson may read as floats (beyond 64 bits)


def _strict_json(raw: bytes) -> Any:
    """The body as JSON (NaN and Infinity refused), None when empty, else the error."""
    if not raw:
        return None
    if _LONG_RUN not in raw.translate(_DIGITS_AS_ZERO):  # orjson reads as json does here, 4x faster
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # json names the error (orjson refuses NaN as json does here)
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as error:
        return error


def _try_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8")) if raw else None
    except ValueError:
        return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _fault_answer(fault: Fault) -> Answer:
    assert fault.status is not None
    answer = error_answer(fault.status, f"Injected failure: HTTP {fault.status}")
    if fault.retry_after is not None:
        seconds = fault.retry_after
        answer.headers["Retry-After"] = str(int(seconds) if seconds == int(seconds) else seconds)
    return answer


def _redact(headers: dict[str, str]) -> dict[str, str]:
    secret = (KEY_HEADER.lower(), "authorization", "cookie")
    return {k: (REDACTED if k in secret else v) for k, v in headers.items()}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        raw = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake: HttpFake = self.server.fake  # type: ignore[attr-defined]
        answer = fake.handle(self.command, self.path, headers, raw)
        if answer is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        reason = HTTPStatus(answer.status).phrase
        lines = [f"HTTP/1.1 {answer.status} {reason}", f"Content-Length: {len(answer.body)}"]
        if answer.body:
            lines.append(f"Content-Type: {answer.content_type}")
        lines += [f"{k}: {v}" for k, v in answer.headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if answer.partial is not None:  # hostile: half an answer, a wait, then the door shut
            self.wfile.write(head + answer.body[: answer.partial])
            self.wfile.flush()
            time.sleep(answer.stall_s)
            self.close_connection = True
            return
        self.wfile.write(head + answer.body)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailer lines
                pass
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""
