"""The push listener: devices POST their readings to ``/push/<device-name>``.

Qt-free; the GUI and `meterbridge serve` both run it. Security defaults:
binds 127.0.0.1 unless the LAN is turned on; every device has its own token
(``Authorization: Bearer``, HTTP Basic password, or ``?token=``); optional
TLS; bodies capped (413). Answers: 200 only after the journal commit; 400
with a JSON message naming what is wrong (the payload is captured); 401 no or
unknown token; 403 token of another device; 404 unknown device or path; 413;
503 when the journal is full or the listener is stopping.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from app.core.capture import CaptureStore
from app.core.devices import DeviceRegistry
from app.core.listener_commit import PushCommitter, ReadingSink
from app.core.listener_handler import PushHandler
from app.core.listener_settings import ListenerSettings, check_bind
from app.core.register_store import RegisterStore

log = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    """Threaded HTTP server; TLS handshakes happen in the connection's thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    ssl_context: ssl.SSLContext | None = None
    app: PushListener

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        try:
            wrapped = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.info("TLS handshake with %s failed: %s", client_address[0], exc)
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.exception("push connection from %s failed", client_address[0])


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
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._last_refresh = 0.0
        self._refresh_lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        """The bound host and port (the real port when 0 was asked)."""
        if self._server is None:
            return self.settings.host, int(self.settings.port)
        host, port = self._server.server_address[:2]
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
        """Bind and start serving in a background thread.

        Raises:
            ValueError: for a LAN address without LAN turned on, or half a TLS setup.
            OSError: when the address cannot be bound (e.g. the port is in use).
        """
        check_bind(self.settings)
        server = _Server((self.settings.host, int(self.settings.port)), PushHandler)
        if self.settings.tls_cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
            server.ssl_context = context
        server.app = self
        self._server = server
        self.committer.start()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="push-listener"
        )
        self._thread.daemon = True
        self._thread.start()
        log.info("push listener on %s://%s:%s", self.scheme, *self.address)

    def stop(self) -> None:
        """Stop accepting, answer what is queued, close."""
        if self._server is None:
            return
        self._server.shutdown()
        self.committer.stop()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self.devices.save_stats()
        self.committer.registers.close()
        self.captures.close()
        self._server = None

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


def open_listener(paths: Any, settings: ListenerSettings, journal: ReadingSink) -> PushListener:
    """The listener of a meterbridge home, with its device registry and stores.

    Args:
        paths: the home's `AppPaths` (devices in the config folder; registers,
            captures and device statistics in the data folder).
        settings: the listener settings.
        journal: where readings are committed.
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
    return PushListener(
        settings, devices, journal, RegisterStore(data / "registers.sqlite3"), captures
    )
