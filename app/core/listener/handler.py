"""One push request: route, authenticate, read, hand over, commit, answer.

Runs on the listener's event loop and never blocks it: the token is checked
and the body's size judged before any of the body is read (a refused request
is answered with ``Connection: close`` and its body is never read); a small
body (up to 16 KB, no Content-Encoding) is split and read on the loop when
nothing of it must be kept; otherwise decoding, multipart splitting and the
device's intake (`push_intake.take_in`: parsing, captures with their fsync)
run on the listener's worker threads, in one hand-over per request;
the journal commit runs on the committer and the request waits for it
without blocking the loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, NoReturn
from urllib.parse import unquote

from aiohttp import web

from app.core.journal.accept import JournalFullError
from app.core.listener.auth import header_token
from app.core.listener.body import BodyError, prepare_payload, prepare_small_payload, too_large
from app.core.listener.commit import PushJob, PushOutcome
from app.core.listener.http import answer
from app.core.listener.push_intake import Intake, keep_incomplete, read_now, take_in
from app.core.sources.devices import Device

log = logging.getLogger(__name__)

COMMIT_TIMEOUT_S = 120.0
SMALL_BODY = 16 * 1024  # read on the event loop when nothing must be kept: at most ~0.5 ms
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class Refused(Exception):
    """An answer other than 200, decided before the readings reach the journal."""

    def __init__(self, status: int, document: dict[str, Any], *, close: bool = False) -> None:
        super().__init__(document.get("error"))
        self.status, self.document, self.close = status, document, close


class PushHandler:
    """aiohttp's request handler for the listener (`app` is the `PushListener`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer one request."""
        busy = self.app.server.busy
        busy.add(request.protocol)
        try:
            status, document = await self._answer(request)
            return answer(status, document)
        except Refused as refused:
            return answer(refused.status, refused.document, close=refused.close)
        except (ConnectionError, asyncio.CancelledError):
            raise  # the client went away: nothing to answer
        except Exception as exc:  # a bug must cost one 500, never the listener
            log.exception("push %s failed", request.path)
            return answer(500, {"error": f"internal error: {type(exc).__name__}"}, close=True)
        finally:
            busy.discard(request.protocol)

    async def _answer(self, request: web.BaseRequest) -> tuple[int, dict[str, Any]]:
        _check_framing(request)
        if request.method in ("GET", "HEAD"):
            if request.path.rstrip("/") == "/health":
                return 200, {"status": "ok"}
            raise Refused(405, {"error": "devices push with POST /push/<device-name>"})
        segments = [unquote(s) for s in request.rel_url.raw_path.strip("/").split("/")]
        if request.method != "POST" or len(segments) != 2 or segments[0] != "push":
            error = "unknown path; devices push to POST /push/<device-name>"
            raise Refused(404, {"error": error}, close=request.body_exists)
        device = await self._authorise(request, segments[1])
        raw = await self._payload(request, device)
        intake = self._read_small(device, raw, request.headers) if len(raw) <= SMALL_BODY else None
        if intake is None:
            intake = await self._off_loop(self._take_in, device, raw, request.headers)
        if isinstance(intake, BodyError):
            self._refuse_body(device, intake)
        if intake.job is None:
            assert intake.document is not None
            return intake.status, intake.document
        outcome = await self._commit(intake.job)
        self.app.sent_hints.add(device.name, intake.info.get("mapping_hint_keys") or [])
        self.app.devices.record_push(device.name, intake.job.count)
        return 200, intake.answer(outcome)

    async def _authorise(self, request: web.BaseRequest, name: str) -> Device:
        """The device, or a refusal (the body is not read; the connection closes)."""
        self.app.refresh_devices()
        devices = self.app.devices
        token = header_token(request.headers.get("Authorization")) or request.query.get("token")
        if not token:
            await self._refuse(
                request,
                name,
                401,
                "no token: send Authorization: Bearer <token>, Basic, or ?token=",
            )
        owner = devices.owner_of(token)
        if owner is None:
            await self._refuse(request, name, 401, "the token is not valid for any device")
        if owner != name:
            if devices.find(name) is None:
                await self._refuse(request, name, 404, f"no device named {name!r} is registered")
            await self._refuse(
                request, name, 403, f"the token belongs to another device, not {name!r}"
            )
        self.app.failed_auth.succeeded(request.remote or "")
        device: Device = devices.get(name)
        return device

    async def _refuse(self, request: web.BaseRequest, name: str, status: int, why: str) -> NoReturn:
        delay = self.app.failed_auth.failed(request.remote or "?", name, why)
        self.app.server.busy.discard(request.protocol)  # a waiting refusal may be evicted
        await asyncio.sleep(delay)
        raise Refused(status, {"error": why}, close=True)

    async def _payload(self, request: web.BaseRequest, device: Device) -> bytes:
        """The body as sent (its size judged first; 100-continue answered)."""
        limit = self.app.max_body
        try:
            length = request.content_length
            if length is not None and length > limit:
                raise too_large(limit)
            expect = request.headers.get("Expect")
            if expect is not None:
                if expect.strip().lower() != "100-continue":
                    raise BodyError(417, f"Expect: {expect[:40]!r} is not supported")
                await request.writer.write(CONTINUE)
            return await self._read(request, limit, device)
        except BodyError as exc:
            self._refuse_body(device, exc)

    def _read_small(self, device: Device, raw: bytes, headers: Any) -> Intake | BodyError | None:
        """A small body read here, on the loop, when that needs no disk I/O; else None.

        Handing a request to a worker thread and back costs about as much as
        reading 50 readings, and buys nothing under the GIL; a body to keep
        (captures fsync) or to inflate goes to the workers.
        """
        try:
            payload = prepare_small_payload(raw, headers)
        except BodyError as exc:
            return exc
        if payload is None:
            return None
        return read_now(device, payload, self.app.devices, self.app.sent_hints)

    def _take_in(self, device: Device, raw: bytes, headers: Any) -> Intake | BodyError:
        """Decode, split and read a body (on a worker thread: one hand-over per request)."""
        try:
            payload = prepare_payload(raw, headers, self.app.max_body)
        except BodyError as exc:
            if exc.incomplete:
                reason = f"incomplete: {exc.message}; not read, nothing journaled"
                keep_incomplete(self.app.captures, device, raw, dict(headers), reason)
            return exc
        return take_in(device, payload, self.app.captures, self.app.devices, self.app.sent_hints)

    def _refuse_body(self, device: Device, error: BodyError) -> NoReturn:
        self.app.devices.record_error(device.name, error.message)
        close = error.status != 415
        raise Refused(error.status, {"error": error.message}, close=close) from None

    async def _read(self, request: web.BaseRequest, limit: int, device: Device) -> bytes:
        """The whole body within `limit` bytes and `body_timeout_s` seconds.

        A body cut short (the peer closed or stalled mid-body) is recorded as
        ``incomplete`` (`keep_incomplete`), never read.
        """
        chunks: list[bytes] = []
        total = 0
        try:
            if request.content.is_eof():  # all of it has arrived (a push, usually): no timer
                chunks.append(request.content.read_nowait())
                total = len(chunks[0])
                if total > limit:
                    raise too_large(limit)
                if request.content.at_eof():
                    return chunks[0]
            async with asyncio.timeout(self.app.body_timeout_s):
                while chunk := await request.content.readany():
                    total += len(chunk)
                    if total > limit:
                        raise too_large(limit)
                    chunks.append(chunk)
        except asyncio.CancelledError:  # aiohttp cancels the handler when the peer goes away
            chunks += _buffered(request)
            self._incomplete(request, device, chunks, "the connection closed")
            raise
        except TimeoutError:
            why = f"the body did not arrive within {self.app.body_timeout_s:g} s"
            self._incomplete(request, device, chunks, why)
            raise BodyError(408, why) from None
        except (web.HTTPException, ValueError) as exc:
            raise BodyError(400, f"the body is broken: {exc}") from None
        except OSError as exc:  # aiohttp's payload errors: cut short, bad chunk
            self._incomplete(request, device, chunks, f"the body is broken: {exc}")
            raise BodyError(400, f"the body is broken: {exc}") from None
        return b"".join(chunks)

    def _incomplete(
        self, request: web.BaseRequest, device: Device, chunks: list[bytes], why: str
    ) -> None:
        """Record the part of a body that arrived, on a worker (the capture store syncs)."""
        if not chunks:
            return
        body = b"".join(chunks)
        length = request.content_length
        declared = f" of {length}" if length is not None else ""
        reason = f"incomplete: {why} after {len(body)}{declared} bytes; not read, nothing journaled"
        self.app.devices.record_error(device.name, reason)
        headers = dict(request.headers)
        try:
            self.app.workers.submit(
                keep_incomplete, self.app.captures, device, body, headers, reason
            )
        except RuntimeError:  # the listener has stopped its workers
            log.warning("push from %s cut short and not recorded: %s", device.name, reason)

    async def _off_loop(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.app.workers, function, *args)

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


def _check_framing(request: web.BaseRequest) -> None:
    """What aiohttp lets through but a push must not have: HTTP/2+ lines, odd transfer codings."""
    if request.version not in ((1, 0), (1, 1)):
        raise Refused(505, {"error": "only HTTP/1.0 and HTTP/1.1 are served"}, close=True)
    coding = request.headers.get("Transfer-Encoding")
    if coding is not None and coding.strip().lower() != "chunked":
        error = f"Transfer-Encoding {coding[:40]!r} is not supported (only chunked)"
        raise Refused(400, {"error": error}, close=True)


def _buffered(request: web.BaseRequest) -> list[bytes]:
    """What arrived of the body but was not read yet (nothing when the stream failed)."""
    try:
        rest = request.content.read_nowait()
    except Exception:  # the stream holds the connection's error: nothing more to take
        return []
    return [rest] if rest else []


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
