"""One push request: route, authenticate, read, parse, commit, answer.

Runs on the listener's event loop. Parsing a device batch is quick (well
under a millisecond for 50 points) so it runs inline; the journal commit
runs on the committer's threads and the request waits for it without
blocking the loop.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from typing import Any, NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

from app.core.journal.accept import JournalFullError
from app.core.listener.body import BodyError, Payload, decode_body, payload_of
from app.core.listener.commit import PushJob, PushOutcome
from app.core.listener.http import Request, answer_bytes, read_body
from app.core.listener.push_intake import MAX_PROBLEMS_SHOWN, take_in
from app.core.sources.devices import Device
from connectors.base import Problem

log = logging.getLogger(__name__)

COMMIT_TIMEOUT_S = 120.0


class Refused(Exception):
    """An answer other than 200, decided before the readings reach the journal."""

    def __init__(self, status: int, document: dict[str, Any], *, close: bool = False) -> None:
        super().__init__(document.get("error"))
        self.status, self.document, self.close = status, document, close


class PushExchange:
    """Handles one request on one connection; `run` returns whether to close it."""

    def __init__(
        self, app: Any, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.app, self.request, self.reader, self.writer = app, request, reader, writer

    async def run(self) -> bool:
        """Answer the request; True when the connection must close afterwards."""
        close = not self.request.keep_alive
        try:
            status, document = await self._answer()
        except Refused as refused:
            status, document = refused.status, refused.document
            close = close or refused.close
        except (ConnectionError, asyncio.IncompleteReadError):
            raise  # the client went away: nothing to answer
        except Exception as exc:  # a bug must cost one 500, never the listener
            log.exception("push %s failed", self.request.target.split("?")[0])
            status, document, close = 500, {"error": f"internal error: {type(exc).__name__}"}, True
        self.writer.write(answer_bytes(status, document, close=close))
        log.debug("%s %s → %s", self.request.method, self.request.target.split("?")[0], status)
        return close

    async def _answer(self) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(self.request.target)
        if self.request.method in ("GET", "HEAD"):
            if parts.path.rstrip("/") == "/health":
                return 200, {"status": "ok"}
            raise Refused(405, {"error": "devices push with POST /push/<device-name>"})
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        if self.request.method != "POST" or len(segments) != 2 or segments[0] != "push":
            await self._discard()
            raise Refused(404, {"error": "unknown path; devices push to POST /push/<device-name>"})
        device = await self._authorise(segments[1], parse_qs(parts.query).get("token", [None])[0])
        payload = await self._payload(device)
        return await self._push(device, payload)

    async def _discard(self) -> None:
        """Read away a small body to keep the connection usable, else close it."""
        length = self.request.header("content-length")
        if length and length.isdigit() and int(length) <= self.app.max_body:
            await self.reader.readexactly(int(length))
        elif length or self.request.header("transfer-encoding"):
            raise Refused(400, {"error": "body not read"}, close=True)

    async def _authorise(self, name: str, query_token: str | None) -> Device:
        self.app.refresh_devices()
        token = header_token(self.request.header("authorization")) or query_token
        if not token:
            await self._refuse(
                401, "no token: send Authorization: Bearer <token>, Basic, or ?token="
            )
        owner = self.app.devices.owner_of(token)
        if owner is None:
            await self._refuse(401, "the token is not valid for any device")
        if owner != name:
            if self.app.devices.find(name) is None:
                await self._refuse(404, f"no device named {name!r} is registered")
            await self._refuse(403, f"the token belongs to another device, not {name!r}")
        device: Device = self.app.devices.get(name)
        return device

    async def _refuse(self, status: int, message: str) -> NoReturn:
        try:
            await self._discard()
        except Refused as refused:
            raise Refused(status, {"error": message}, close=True) from refused
        raise Refused(status, {"error": message})

    async def _payload(self, device: Device) -> Payload:
        limit = self.app.max_body
        try:
            raw = await read_body(self.request, self.reader, self.writer, limit)
            data = decode_body(raw, self.request.header("content-encoding"), limit)
            content_type = self.request.header("content-type") or "application/octet-stream"
            return payload_of(data, content_type, "push-body")
        except BodyError as exc:
            self.app.devices.record_error(device.name, exc.message)
            close = exc.status in (400, 411, 413, 431)
            raise Refused(exc.status, {"error": exc.message}, close=close) from None

    async def _push(self, device: Device, payload: Payload) -> tuple[int, dict[str, Any]]:
        app = self.app
        intake = take_in(device, payload, app.captures, app.devices)
        if intake.job is None:
            assert intake.document is not None
            raise Refused(intake.status, intake.document)
        outcome = await self._commit(intake.job)
        app.devices.record_push(device.name, intake.job.count)
        return 200, summary(intake.job, outcome, intake.problems, intake.info, intake.captured)

    async def _commit(self, job: PushJob) -> PushOutcome:
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()
        job.notify = lambda: self.app.wake(finished)
        try:
            self.app.committer.submit(job)
        except RuntimeError as exc:
            raise Refused(503, {"error": str(exc)}) from None
        timer = loop.call_later(COMMIT_TIMEOUT_S, _settle, finished)
        await finished
        timer.cancel()
        if not job.done.is_set():
            self.app.devices.record_error(job.device.name, "journal commit timed out")
            raise Refused(503, {"error": "the journal did not commit in time; send again"})
        if job.error is not None:
            self._commit_failed(job.device.name, job.error)
        assert job.result is not None
        return job.result

    def _commit_failed(self, name: str, error: BaseException) -> NoReturn:
        message = str(error)
        self.app.devices.record_error(name, message)
        if isinstance(error, JournalFullError):
            raise Refused(503, {"error": message})
        log.error("push from %s not journaled: %s", name, message)
        raise Refused(500, {"error": f"readings not stored: {message}"})


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def summary(
    job: PushJob,
    outcome: PushOutcome,
    problems: list[Problem],
    info: dict[str, Any],
    captured: int | None,
) -> dict[str, Any]:
    """The JSON body of a 200 answer."""
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


def header_token(header: str | None) -> str | None:
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
