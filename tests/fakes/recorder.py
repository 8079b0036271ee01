"""A second loopback server that records every request it gets, headers included.

It stands for "another host" in redirect tests: whatever reaches it left the
configured host. It answers every request 200 with a body that would confirm
everything (an EnergyCAP ReadingResponse claiming all imported, an OAuth token),
so a client that followed a redirect here would be fooled, and the test sees it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LIES = {
    "importedReadingsCount": 1_000_000,
    "failedReadingsCount": 0,
    "failedReadings": [],
    "access_token": "stolen-token",
    "expires_in": 3600,
}


@dataclass
class Seen:
    """One request as it arrived: method, path, headers (as sent), body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Recorder:
    """Use as a context manager; `url` is its base, `seen` what reached it."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> Recorder:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.recorder = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def header_values(self) -> list[str]:
        """Every header value that reached this server."""
        return [v for s in self.seen for v in s.headers.values()]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        recorder: Recorder = self.server.recorder  # type: ignore[attr-defined]
        recorder.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
        answer = json.dumps(LIES).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = do_PUT = do_DELETE = do_GET
