"""The push listener: devices POST their readings to ``/push/<device-name>``.

Qt-free; the GUI and `meterbridge serve` both run it. HTTP is aiohttp's
server (`listener.http`) on one event-loop thread (keep-alive, no thread per
device); parsing and captures run on a few worker threads, journal commits
on the committer. Security defaults: binds 127.0.0.1 unless the LAN is
turned on; every device has its own token (``Authorization: Bearer``, HTTP
Basic password, or ``?token=``), checked before any of the body is read;
failed checks logged and slowed per address; optional TLS; bodies capped
(413, also after gunzip); open connections capped and idle ones closed.
Answers: 200 only after the journal commit; 400 with a JSON message naming
what is wrong; 401 no or unknown token; 403 token of another device; 404
unknown device or path; 408 body too slow; 413; 503 when the journal is
full or the listener is stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from app.core.listener import address
from app.core.listener.auth import FailedAuth
from app.core.listener.capture import CaptureStore
from app.core.listener.commit import PushCommitter, ReadingSink
from app.core.listener.handler import PushHandler
from app.core.listener.http import (
    CappedServer,
    bind_socket,
    c_parser_missing,
    connection_cap,
    raise_descriptor_limit,
    server_options,
)
from app.core.listener.sent_hints import SentHints
from app.core.settings.listener import ListenerSettings, check_bind
from app.core.sources.devices import DeviceRegistry
from app.core.sources.register_store import RegisterStore

log = logging.getLogger(__name__)

WORKERS = 2  # parsing is CPU (one at a time under the GIL): more threads only contend;
# two, so that one large body or a capture's fsync does not hold up the others


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
        self.idle_timeout_s = float(settings.idle_timeout_s)
        self.body_timeout_s = float(settings.body_timeout_s)
        self.failed_auth = FailedAuth()
        self.sent_hints = SentHints()  # mapping hints committed: not sent again
        self.workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="push-intake")
        self.server: CappedServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listening: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._last_refresh = 0.0
        self._refresh_lock = threading.Lock()
        self._to_wake: list[asyncio.Future[None]] = []
        self._wake_lock = threading.Lock()
        self.data_dir: Path | None = None  # where the bound address is noted for `device list`

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port (the real port when 0 was asked)."""
        if self._listening is None or not self._listening.sockets:
            return self.settings.host, int(self.settings.port)
        host, port = self._listening.sockets[0].getsockname()[:2]
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

    @property
    def open_connections(self) -> int:
        """Connections open now."""
        return 0 if self.server is None else len(self.server.connections)

    def start(self) -> None:
        """Bind and start serving on an event loop in a background thread.

        Raises:
            ValueError: for a LAN address without LAN turned on, or half a TLS setup.
            OSError: when the address cannot be bound (e.g. the port is in use).
        """
        check_bind(self.settings)
        if c_parser_missing():
            log.warning("aiohttp's C HTTP parser is missing: the slower pure-Python one serves")
        context = self._tls_context()
        cap = connection_cap(self.settings.max_connections, raise_descriptor_limit())
        sock = bind_socket(self.settings.host, int(self.settings.port))
        loop = asyncio.new_event_loop()
        try:
            self.server = CappedServer(
                PushHandler(self),
                max_connections=cap,
                loop=loop,
                **server_options(self.idle_timeout_s),
            )
            self._listening = loop.run_until_complete(
                loop.create_server(self.server, sock=sock, ssl=context, backlog=512)
            )
        except BaseException:
            sock.close()
            loop.close()
            raise
        self._loop = loop
        self.committer.start()
        self._thread = threading.Thread(target=loop.run_forever, name="push-listener", daemon=True)
        self._thread.start()
        log.info(
            "push listener on %s://%s:%s (at most %d connections)", self.scheme, *self.address, cap
        )
        if self.data_dir is not None:  # `device add/list` print the address really bound
            address.record(self.data_dir, self.scheme, *self.address, self.settings.public_host)

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.settings.tls_cert:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        return context

    def stop(self) -> None:
        """Stop accepting, answer what is queued, close."""
        loop, listening = self._loop, self._listening
        if loop is None or listening is None:
            return
        loop.call_soon_threadsafe(listening.close)
        self.committer.stop()
        with contextlib.suppress(TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(self._close_all(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        loop.close()
        self.workers.shutdown(wait=True)
        self.save_stats()
        if self.data_dir is not None:
            address.forget(self.data_dir)
        self.committer.registers.close()
        self.captures.close()
        self._listening = self._loop = None

    async def _close_all(self) -> None:
        assert self._listening is not None and self.server is not None
        self._listening.close()
        await asyncio.sleep(0.05)  # answers of the last commits are written before the close
        transports = self.server.transports()
        await self.server.shutdown(2.0)
        for transport in transports:
            transport.abort()  # what shutdown left open (idle or half-closed peers)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait_closed(), 3)
        await asyncio.sleep(0.05)  # the aborted transports close before the loop stops

    def save_stats(self) -> None:
        """Write the device statistics; a failure is logged, never raised."""
        try:
            self.devices.save_stats()
        except Exception:  # a full disk or too many open files must not stop the listener
            log.exception("device statistics not saved")

    def wake(self, future: asyncio.Future[None]) -> None:
        """Resolve a waiting request's future from the commit thread.

        Wake-ups of one commit are coalesced into one loop callback (one
        self-pipe write instead of one per request).
        """
        with self._wake_lock:
            self._to_wake.append(future)
            first = len(self._to_wake) == 1
        if first and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed while stopping
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
                try:
                    self.devices.refresh()
                except Exception:  # keep serving the devices already known
                    log.exception("device list not re-read")

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
    listener.data_dir = data
    if commit_process:
        from app.core.listener.commit_process import CommitProcess

        listener.committer.remote = CommitProcess(
            Path(getattr(journal, "path")),  # noqa: B009 (a ReadingSink has no path)
            data / "registers.sqlite3",
            max_bytes=int(getattr(journal, "max_bytes")),  # noqa: B009
            retention_days=float(getattr(journal, "retention_days")),  # noqa: B009
        )
    return listener
