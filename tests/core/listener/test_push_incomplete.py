"""A push body cut short is recorded as 'incomplete': never read, never replayed, nothing journaled.

Raw sockets send half a body and close (or stall past the body timeout); a
gzip stream that ends early is the same. The listener keeps serving.
"""

from __future__ import annotations

import gzip
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.core.listener.capture import HELD, INCOMPLETE, CaptureInfo
from app.core.listener.held import HeldPushes
from tests.core.listener.test_listener import Served, bearer, points, start


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = start(tmp_path, body_timeout_s=1.5)
    yield s
    s.listener.stop()


def head(served: Served, length: int | None, device: str = "gw1") -> bytes:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST /push/{device} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {served.tokens[device]}\r\nContent-Type: application/json\r\n"
        f"{framing}\r\n\r\n"
    ).encode()


def recorded(served: Served, count: int = 1, wait_s: float = 5.0) -> list[CaptureInfo]:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        found = served.captures.list(status=INCOMPLETE)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    return served.captures.list(status=INCOMPLETE)


@pytest.mark.parametrize("ending", ["close", "reset"])
def test_half_a_body_then_the_connection_closes(served: Served, ending: str) -> None:
    body = points(40)
    half = body[: len(body) // 2]
    with socket.create_connection(served.listener.address) as raw:
        raw.sendall(head(served, len(body)) + half)
        time.sleep(0.3)
        if ending == "reset":
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    [info] = recorded(served)
    assert info.device == "gw1" and info.status == INCOMPLETE and not info.held
    assert f"after {len(half)} of {len(body)} bytes" in info.reason
    assert "connection closed" in info.reason and "nothing journaled" in info.reason
    capture = served.captures.get(info.id)
    assert capture is not None and capture.body == half
    assert "authorization" not in {k.lower() for k in info.headers or {}}
    assert served.journal.pending(100).empty
    assert served.captures.list(status=HELD) == []  # nothing waits to be mapped or replayed
    whole = requests.post(served.url("gw1"), data=body, headers=bearer(served.tokens["gw1"]))
    assert whole.status_code == 200 and whole.json()["journal"]["new"] == 40


def test_a_chunked_body_cut_mid_chunk(served: Served) -> None:
    body = points(40)
    with socket.create_connection(served.listener.address) as raw:
        raw.sendall(head(served, None) + b"%x\r\n" % len(body) + body[:300])
        time.sleep(0.3)
    [info] = recorded(served)
    assert "after 300 bytes" in info.reason and info.status == INCOMPLETE
    assert served.journal.pending(100).empty


def test_a_body_that_stalls_is_408_and_recorded(served: Served) -> None:
    body = points(40)
    with socket.create_connection(served.listener.address, timeout=10) as raw:
        raw.sendall(head(served, len(body)) + body[:100])
        answer = raw.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408")
    [info] = recorded(served)
    assert "did not arrive within 1.5 s after 100 of" in info.reason
    assert served.journal.pending(100).empty


def test_a_gzip_stream_cut_short_is_400_and_recorded(served: Served) -> None:
    whole = gzip.compress(points(40))
    headers = {**bearer(served.tokens["gw1"]), "Content-Encoding": "gzip"}
    cut = requests.post(served.url("gw1"), data=whole[: len(whole) // 2], headers=headers)
    assert cut.status_code == 400 and "incomplete" in cut.json()["error"]
    [info] = recorded(served)
    assert info.reason.startswith("incomplete: gzip body is incomplete")
    assert served.captures.get(info.id).body == whole[: len(whole) // 2]  # type: ignore[union-attr]
    assert served.journal.pending(100).empty


def test_an_incomplete_body_is_never_replayed(served: Served) -> None:
    body = points(40)
    with socket.create_connection(served.listener.address) as raw:
        raw.sendall(head(served, len(body)) + body[:200])
        time.sleep(0.3)
    assert recorded(served)
    held = HeldPushes(served.listener.devices, served.captures)
    assert held.bodies("gw1") == []
