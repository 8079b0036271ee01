"""`meterbridge serve` attacked on loopback: idle floods, big unauthenticated bodies."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.ports import free_port
from tests.test_serve import SETTINGS, Server, cli

resource = pytest.importorskip("resource", reason="POSIX descriptor limits")

BODY = json.dumps(
    [{"exportId": "000D6F0001A303D4_500", "timestamp": 1780000000 + 60 * i, "value": i}
     for i in range(5)]
).encode()  # fmt: skip


def low_descriptor_limit() -> None:
    """In the child before exec: at most 1,024 open files, soft and hard."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def serve_home(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.json").write_text(json.dumps(SETTINGS))
    (home / "mapping.csv").write_text("source_id,channel_import_id\n")
    added = cli(home, "device", "add", "gw1", "--connector", "episensor")
    token = next(line.split()[-1] for line in added.stdout.splitlines() if line.startswith("token"))
    return home, token


@pytest.mark.slow
def test_1100_idle_connections_under_a_1024_descriptor_limit_leave_pushes_answered(
    tmp_path: Path,
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2400:
        pytest.skip(f"this test needs 2,400 open files for its own sockets (hard limit {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2400), hard))
    home, token = serve_home(tmp_path)
    port = free_port()
    server = Server(home, port, "--no-deliver", preexec_fn=low_descriptor_limit)
    idle: list[socket.socket] = []
    try:
        for _ in range(1100):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(1.0)
        url = f"http://127.0.0.1:{port}/push/gw1"
        answer = requests.post(url, data=BODY, headers={"Authorization": f"Bearer {token}"},
                               timeout=10)  # fmt: skip
        assert answer.status_code == 200 and answer.json()["received"] == 5
        time.sleep(1.5)  # a stats write (once a second) under the limit did not kill serve
        assert server.process.poll() is None
    finally:
        for sock in idle:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    code, _ = server.finish(signal.SIGTERM)
    assert code == 0


@pytest.mark.slow
def test_100_unauthenticated_10_mb_bodies_do_not_grow_memory(tmp_path: Path) -> None:
    home, token = serve_home(tmp_path)
    port = free_port()
    server = Server(home, port, "--no-deliver")
    before = rss_mb(server.process.pid)
    body = b"[" + b" " * (10 * 2**20 - 2) + b"]"
    peak = [before]
    statuses: list[int] = []

    head = f"POST /push/gw1 HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"

    def send() -> None:
        """One body without a token on a raw socket (always closed; sending may be reset)."""
        got = b""
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            with contextlib.suppress(OSError):  # refused before the body was read
                raw.sendall(head.encode() + body)
            with contextlib.suppress(OSError):
                got = raw.recv(200)
        statuses.append(int(got.split(b" ")[1]) if got.startswith(b"HTTP/1.1 ") else 0)
        peak.append(rss_mb(server.process.pid))

    threads = [threading.Thread(target=send) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    peak.append(rss_mb(server.process.pid))
    assert max(peak) - before < 200, (before, max(peak))
    assert statuses.count(401) >= 1 and set(statuses) <= {401, 0}
    url = f"http://127.0.0.1:{port}/push/gw1"
    ok = requests.post(url, data=BODY, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert ok.status_code == 200
    code, _ = server.finish(signal.SIGTERM)
    assert code == 0
