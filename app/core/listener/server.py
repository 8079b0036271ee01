"""The push listener: devices POST their readings to ``/push/<device-name>``.

Qt-free; the GUI and `meterbridge serve` both run it. Security defaults:
binds 127.0.0.1 unless the LAN is turned on; every device has its own token
(``Authorization: Bearer``, HTTP Basic password, or ``?token=``); optional
TLS; bodies capped (413). One event-loop thread serves every connection (keep-alive, no thread per
device). Answers: 200 only after the journal commit; 400
with a JSON message naming what is wrong (the payload is captured); 401 no or
unknown token; 403 token of another device; 404 unknown device or path; 413;
503 when the journal is full or the listener is stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from app.core.listener.body import BodyError
from app.core.listener.capture import CaptureStore
from app.core.listener.commit import PushCommitter, ReadingSink
from app.core.listener.handler import PushExchange
from app.core.listener.http import answer_bytes, read_request
from app.core.listener.settings import ListenerSettings, check_bind
from app.core.sources.devices import DeviceRegistry
from app.core.sources.register_store import RegisterStore

log = logging.getLogger(__name__)


class PushListener:
    """The listener, its committer and its stores, started and stopped together."""

    def __init__(
        self,
        settings: ListenerSettings,
        devices: DeviceRegistry,
        journal: ReadingSink,
        registers: RegisterStore,
        captures: CaptureStore,
    ) -> None:
        self.settings = settings
        self.devices = devices
        self.captures = captures
        self.committer = PushCommitter(journal, registers)
        self.max_body = int(settings.max_body_bytes)
        self.idle_timeout_s = 120.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._deadlines: dict[asyncio.StreamWriter, float] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._transports: weakref.WeakSet[asyncio.Transport] = weakref.WeakSet()
        self._last_refresh = 0.0
        self._refresh_lock = threading.Lock()
        self._to_wake: list[asyncio.Future[None]] = []
        self._wake_lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port (the real port when 0 was asked)."""
        if self._server is None or not self._server.sockets:
            return self.settings.host, int(self.settings.port)
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    @property
    def scheme(self) -> str:
        """``https`` with TLS, else ``http``."""
        return "https" if self.settings.tls_cert else "http"

    def url_for(self, device: str) -> str:
        """The push URL of a device."""
        host, port = self.address
        shown = self.settings.public_host or host
        return f"{self.scheme}://{shown}:{port}/push/{device}"

    def start(self) -> None:
        """Bind and start serving on an event loop in a background thread.

        Raises:
            ValueError: for a LAN address without LAN turned on, or half a TLS setup.
            OSError: when the address cannot be bound (e.g. the port is in use).
        """
        check_bind(self.settings)
        context = self._tls_context()
        loop = asyncio.new_event_loop()
        try:
            self._server = loop.run_until_complete(
                asyncio.start_server(
                    self._serve_connection,
                    self.settings.host,
                    int(self.settings.port),
                    ssl=context,
                    backlog=512,
                    reuse_address=True,
                    limit=1 << 16,
                )
            )
        except BaseException:
            loop.close()
            raise
        self._loop = loop
        self._sweeper = loop.create_task(self._sweep_idle())
        self.committer.start()
        self._thread = threading.Thread(target=loop.run_forever, name="push-listener", daemon=True)
        self._thread.start()
        log.info("push listener on %s://%s:%s", self.scheme, *self.address)

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.settings.tls_cert:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        return context

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._connections.add(writer)
        self._transports.add(writer.transport)  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        try:
            while True:
                # A connection idle (or a request unfinished) for idle_timeout_s is dropped
                # by the sweeper (`_sweep_idle`): a deadline per connection, no timer per request.
                self._deadlines[writer] = loop.time() + self.idle_timeout_s
                if await self._exchange(reader, writer):
                    break
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass  # the client went away or idled out: nothing was acknowledged on it
        finally:
            self._deadlines.pop(writer, None)
            with contextlib.suppress(ConnectionError, ssl.SSLError, RuntimeError):
                writer.close()
            self._connections.discard(writer)

    async def _sweep_idle(self) -> None:
        """Abort connections past their deadline (checked a few times per timeout)."""
        while True:
            await asyncio.sleep(min(1.0, self.idle_timeout_s / 4))
            now = asyncio.get_running_loop().time()
            for writer, deadline in list(self._deadlines.items()):
                if now > deadline:
                    self._deadlines.pop(writer, None)
                    writer.transport.abort()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read and answer one request; True when the connection must close."""
        try:
            request = await read_request(reader)
        except BodyError as exc:
            writer.write(answer_bytes(exc.status, {"error": exc.message}, close=True))
            return True
        if request is None:
            return True
        close = await PushExchange(self, request, reader, writer).run()
        await writer.drain()
        return close

    def stop(self) -> None:
        """Stop accepting, answer what is queued, close."""
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return
        loop.call_soon_threadsafe(server.close)
        self.committer.stop()
        asyncio.run_coroutine_threadsafe(self._close_all(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        loop.close()
        self.devices.save_stats()
        self.committer.registers.close()
        self.captures.close()
        self._server = self._loop = None

    async def _close_all(self) -> None:
        assert self._server is not None
        self._server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        await asyncio.sleep(0.05)  # answers of the last commits are written before the abort
        for transport in list(self._transports):
            transport.abort()  # ends idle keep-alive reads; TLS would wait for close_notify
        handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if handlers:
            await asyncio.wait(handlers, timeout=5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 5)
        await asyncio.sleep(0.05)  # let the transports finish closing before the loop stops

    def wake(self, future: asyncio.Future[None]) -> None:
        """Resolve a waiting request's future from the commit thread.

        Wake-ups of one commit are coalesced into one loop callback (one
        self-pipe write instead of one per request).
        """
        with self._wake_lock:
            self._to_wake.append(future)
            first = len(self._to_wake) == 1
        if first and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        with self._wake_lock:
            futures, self._to_wake = self._to_wake, []
        for future in futures:
            if not future.done():
                future.set_result(None)

    def refresh_devices(self) -> None:
        """Pick up devices added or removed on disk (at most once a second)."""
        now = time.monotonic()
        if now - self._last_refresh < 1.0:
            return
        with self._refresh_lock:
            if now - self._last_refresh >= 1.0:
                self._last_refresh = now
                self.devices.refresh()

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per-device statistics for the GUI (name → fields)."""
        from dataclasses import asdict

        return {d.name: asdict(self.devices.stats(d.name)) for d in self.devices.all()}


def open_listener(
    paths: Any, settings: ListenerSettings, journal: ReadingSink, *, commit_process: bool = False
) -> PushListener:
    """The listener of a meterbridge home, with its device registry and stores.

    Args:
        paths: the home's `AppPaths` (devices in the config folder; registers,
            captures and device statistics in the data folder).
        settings: the listener settings.
        journal: where readings are committed (a `Journal`).
        commit_process: commit in a child process that opens the same journal
            file (`commit_process.CommitProcess`): the event loop and the journal
            then use two cores. `meterbridge serve` does.
    """
    from app.core.secrets import SecretStore

    data = paths.data_dir
    devices = DeviceRegistry(
        paths.config_dir / "devices.json", data / "device-stats.json", SecretStore()
    )
    captures = CaptureStore(
        data / "captures.sqlite3",
        max_count=settings.capture_max_count,
        max_bytes=settings.capture_max_bytes,
    )
    listener = PushListener(
        settings, devices, journal, RegisterStore(data / "registers.sqlite3"), captures
    )
    if commit_process:
        from app.core.listener.commit_process import CommitProcess

        listener.committer.remote = CommitProcess(
            Path(getattr(journal, "path")),  # noqa: B009 (a ReadingSink has no path)
            data / "registers.sqlite3",
            max_bytes=int(getattr(journal, "max_bytes")),  # noqa: B009
            retention_days=float(getattr(journal, "retention_days")),  # noqa: B009
        )
    return listener
