"""The HTTP request handler of the push listener (one thread per connection).

Responses are written in one piece (status, headers and body in a single
send) with TCP_NODELAY set, so keep-alive clients never wait on Nagle's
algorithm meeting delayed ACKs.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from app.core.devices import Device
from app.core.journal_accept import JournalFullError
from app.core.listener_body import BodyError, Payload, decode_body, payload_of, read_body, too_large
from app.core.listener_commit import PushJob, PushOutcome
from app.core.push_readers import parse_payload
from connectors.base import Problem, SourceError
from connectors.push_common import PointColumns

log = logging.getLogger(__name__)

COMMIT_TIMEOUT_S = 120.0
MAX_PROBLEMS_SHOWN = 20


class PushHandler(BaseHTTPRequestHandler):
    """Handles ``POST /push/<device>``."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 60
    server_version = "meterbridge"

    # plumbing ----------------------------------------------------------------
    @property
    def app(self) -> Any:
        """The `PushListener` this handler serves."""
        return getattr(self.server, "app")  # noqa: B009 - set by PushListener.start

    def log_message(self, format: str, *args: Any) -> None:
        """Request log without the query string (it may hold a token)."""
        log.debug("%s %s", self.client_address[0], (format % args).split("?", 1)[0])

    def answer(self, status: int, document: dict[str, Any], *, close: bool = False) -> None:
        """Send a JSON answer in one write."""
        body = json.dumps(document).encode("utf-8")
        close = close or self.close_connection
        head = [
            f"HTTP/1.1 {status} {_phrase(status)}",
            "Server: meterbridge",
            f"Date: {formatdate(usegmt=True)}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        if status == 503:
            head.append("Retry-After: 60")
        if status == 401:
            head.append('WWW-Authenticate: Bearer realm="meterbridge", Basic realm="meterbridge"')
        if close:
            head.append("Connection: close")
            self.close_connection = True
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        self.log_request(status, len(body))

    def handle_expect_100(self) -> bool:
        """Refuse an announced oversized body before the client sends it."""
        length = self.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.app.max_body:
            self.answer(413, {"error": too_large(self.app.max_body).message}, close=True)
            return False
        return super().handle_expect_100()

    def do_GET(self) -> None:
        """Health check on /health; pushes must be POSTed."""
        if urlsplit(self.path).path.rstrip("/") == "/health":
            self.answer(200, {"status": "ok"})
        else:
            self.answer(405, {"error": "devices push with POST /push/<device-name>"})

    # the push ------------------------------------------------------------------
    def do_POST(self) -> None:
        """Authenticate, read, parse, commit, answer."""
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        if len(segments) != 2 or segments[0] != "push" or not segments[1]:
            self._discard_body()
            self.answer(404, {"error": "unknown path; devices push to /push/<device-name>"})
            return
        device = self._authorise(segments[1], parse_qs(parts.query).get("token", [None])[0])
        if device is None:
            return
        try:
            payload = self._payload()
        except BodyError as exc:
            self.app.devices.record_error(device.name, exc.message)
            self.answer(exc.status, {"error": exc.message}, close=exc.status in (411, 413))
            return
        self._push(device, payload)

    def _authorise(self, name: str, query_token: str | None) -> Device | None:
        self.app.refresh_devices()
        token = _header_token(self.headers.get("Authorization")) or query_token
        if not token:
            self._refuse(
                401, "no token: send Authorization: Bearer <token>, Basic auth, or ?token="
            )
            return None
        owner = self.app.devices.owner_of(token)
        if owner is None:
            self._refuse(401, "the token is not valid for any device")
            return None
        if owner != name:
            if self.app.devices.find(name) is None:
                self._refuse(404, f"no device named {name!r} is registered")
            else:
                self._refuse(403, f"the token belongs to another device, not {name!r}")
            return None
        device: Device = self.app.devices.get(name)
        return device

    def _refuse(self, status: int, message: str) -> None:
        self._discard_body()
        self.answer(status, {"error": message})

    def _discard_body(self) -> None:
        """Read away a small body so the connection stays usable; close on big ones."""
        length = self.headers.get("Content-Length")
        if length and length.isdigit() and int(length) <= self.app.max_body:
            self.rfile.read(int(length))
        elif length or "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True

    def _payload(self) -> Payload:
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        limit = self.app.max_body
        raw = read_body(self.rfile, self.headers.get("Content-Length"), chunked, limit)
        data = decode_body(raw, self.headers.get("Content-Encoding"), limit)
        content_type = self.headers.get("Content-Type") or "application/octet-stream"
        return payload_of(data, content_type, "push-body")

    def _push(self, device: Device, payload: Payload) -> None:
        options = {**device.reader_options(), "form": payload.fields}
        try:
            parsed = parse_payload(device.connector, payload.data, payload.name, options)
        except SourceError as exc:
            self._reject(device, payload, exc.message)
            return
        except Exception as exc:  # a reader bug must not kill the connection: capture it
            log.exception("reader %s failed on a push from %s", device.connector, device.name)
            self._reject(device, payload, f"the reader failed: {type(exc).__name__}: {exc}")
            return
        if isinstance(parsed, PointColumns):
            job, problems, info = PushJob(device, columns=parsed), parsed.problems, parsed.info
        else:
            job, problems, info = PushJob(device, frame=parsed[0]), parsed[1], {}
        captured = self._capture_partial(device, payload, problems)
        self._commit(job, problems, info, captured)

    def _reject(self, device: Device, payload: Payload, message: str) -> None:
        capture_id = self._capture(device, payload, message)
        self.app.devices.record_error(device.name, message)
        self.answer(
            400,
            {
                "error": message,
                "captured": capture_id,
                "hint": "the payload was captured; see "
                f"`meterbridge device captures {device.name}`",
            },
        )

    def _capture(self, device: Device, payload: Payload, reason: str) -> int:
        store = self.app.captures
        return int(
            store.keep(
                device.name,
                payload.data,
                name=payload.name,
                content_type=payload.content_type,
                reason=reason,
                fields=payload.fields,
            )
        )

    def _capture_partial(
        self, device: Device, payload: Payload, problems: list[Problem]
    ) -> int | None:
        if not problems:
            return None
        reason = "; ".join(p.describe() for p in problems[:MAX_PROBLEMS_SHOWN])
        return self._capture(device, payload, f"{len(problems)} value(s) not read: {reason}")

    def _commit(
        self, job: PushJob, problems: list[Problem], info: dict[str, Any], captured: int | None
    ) -> None:
        name = job.device.name
        try:
            self.app.committer.submit(job)
        except RuntimeError as exc:
            self.answer(503, {"error": str(exc)})
            return
        if not job.done.wait(COMMIT_TIMEOUT_S):
            self.app.devices.record_error(name, "journal commit timed out")
            self.answer(503, {"error": "the journal did not commit in time; send again later"})
            return
        if job.error is not None:
            self._commit_failed(name, job.error)
            return
        assert job.result is not None
        self.app.devices.record_push(name, job.count)
        self.answer(200, _summary(job, job.result, problems, info, captured))

    def _commit_failed(self, name: str, error: BaseException) -> None:
        message = str(error)
        self.app.devices.record_error(name, message)
        if isinstance(error, JournalFullError):
            self.answer(503, {"error": message})
        else:
            log.error("push from %s not journaled: %s", name, message)
            self.answer(500, {"error": f"readings not stored: {message}"})


def _summary(
    job: PushJob,
    outcome: PushOutcome,
    problems: list[Problem],
    info: dict[str, Any],
    captured: int | None,
) -> dict[str, Any]:
    accepted = outcome.accepted
    journal = (
        {k: int(v) for k, v in vars(accepted).items()} if hasattr(accepted, "__dict__") else {}
    )
    document: dict[str, Any] = {
        "device": job.device.name,
        "received": job.count,
        "journal": journal,
        "committed_with_requests": outcome.requests,
    }
    if outcome.derived.registers_in:
        document["registers"] = {
            "points": outcome.derived.registers_in,
            "intervals": outcome.derived.intervals,
            "resets": outcome.derived.resets,
            "notes": outcome.derived.notes[:MAX_PROBLEMS_SHOWN],
        }
    if problems:
        document["problems"] = [p.describe() for p in problems[:MAX_PROBLEMS_SHOWN]]
        document["problem_count"] = len(problems)
        document["captured"] = captured
    if info.get("skipped_params"):
        document["skipped_params"] = info["skipped_params"]
    return document


def _header_token(header: str | None) -> str | None:
    """The token from ``Bearer <t>`` or Basic auth (the password, else the user name)."""
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return password or user or None
    return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"
