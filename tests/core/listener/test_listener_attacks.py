"""The push listener attacked over raw sockets: malformed framing, bad gzip, slow and idle peers.

Every refused request gets its 4xx within seconds, its connection closed, and
nothing from it in the journal; the listener keeps serving a valid push.
"""

from __future__ import annotations

import gzip
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.core.listener.test_listener import Served, bearer, points, start

HEAD = "POST /push/gw1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = start(tmp_path, idle_timeout_s=2.0, body_timeout_s=2.0)
    yield s
    s.listener.stop()


def exchange(served: Served, data: bytes, wait_s: float = 5.0) -> tuple[str, bool, bytes]:
    """Send raw bytes; the status line, whether the server closed, and what came back.

    A server that closes with part of a refused request unread makes the kernel
    send a reset, which now and then overtakes its answer: then it is sent again.
    """
    for _ in range(3):
        got, closed, reset = _once(served, data, wait_s)
        if got or not reset:
            break
    return got.split(b"\r\n", 1)[0].decode("latin-1"), closed, got


def _once(served: Served, data: bytes, wait_s: float) -> tuple[bytes, bool, bool]:
    host, port = served.listener.address
    got, closed, reset = b"", False, False
    with socket.create_connection((host, port), timeout=wait_s) as raw:
        try:
            raw.sendall(data)
            while chunk := raw.recv(65536):
                got += chunk
            closed = True
        except TimeoutError:
            pass
        except (ConnectionResetError, BrokenPipeError):
            closed = reset = True
    return got, closed, reset


def request(served: Served, headers: str, body: bytes = b"") -> bytes:
    return (HEAD.format(token=served.tokens["gw1"]) + headers + "\r\n").encode() + body


BODY = points(3)
N = len(BODY)
CHUNKED = b"%x\r\n" % N + BODY + b"\r\n0\r\n\r\n"
MALFORMED = [
    ("two different Content-Length", f"Content-Length: {N}\r\nContent-Length: {N + 1}\r\n", BODY),
    ("the same Content-Length twice", f"Content-Length: {N}\r\nContent-Length: {N}\r\n", BODY),
    ("Content-Length 1_0", "Content-Length: 1_0\r\n", BODY),
    ("Content-Length +N", f"Content-Length: +{N}\r\n", BODY),
    ("Content-Length -1", "Content-Length: -1\r\n", BODY),
    ("Content-Length list", f"Content-Length: {N}, {N}\r\n", BODY),
    ("Content-Length in hex", f"Content-Length: 0x{N:x}\r\n", BODY),
    ("Transfer-Encoding xchunked", "Transfer-Encoding: xchunked\r\n", CHUNKED),
    ("Transfer-Encoding twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
     CHUNKED),
    ("Transfer-Encoding chunked, chunked", "Transfer-Encoding: chunked, chunked\r\n", CHUNKED),
    ("Transfer-Encoding gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n", CHUNKED),
    ("Transfer-Encoding and Content-Length",
     f"Content-Length: {N}\r\nTransfer-Encoding: chunked\r\n", CHUNKED),
    ("chunk size -1", "Transfer-Encoding: chunked\r\n", b"-1\r\n" + BODY + b"\r\n0\r\n\r\n"),
    ("chunk size zz", "Transfer-Encoding: chunked\r\n", b"zz\r\n" + BODY + b"\r\n0\r\n\r\n"),
    ("chunk size 0x10", "Transfer-Encoding: chunked\r\n", b"0x10\r\n" + BODY + b"\r\n0\r\n\r\n"),
    ("chunk size overflow", "Transfer-Encoding: chunked\r\n", b"F" * 20 + b"\r\nab\r\n0\r\n\r\n"),
    ("chunk without its CRLF", "Transfer-Encoding: chunked\r\n", b"3\r\nabcX0\r\n\r\n"),
    ("space before the colon", f"Content-Length : {N}\r\n", BODY),
    ("obsolete line folding", f"X-Note: a\r\n  b\r\nContent-Length: {N}\r\n", BODY),
    ("NUL in a header value", f"X-Note: a\x00b\r\nContent-Length: {N}\r\n", BODY),
    ("header line without a colon", f"Garbage\r\nContent-Length: {N}\r\n", BODY),
    ("two Host headers", f"Host: other\r\nContent-Length: {N}\r\n", BODY),
    ("a 70 kB header", f"X-Big: {'a' * 70_000}\r\nContent-Length: {N}\r\n", BODY),
    ("300 headers", "".join(f"X-{i}: 1\r\n" for i in range(300)) + f"Content-Length: {N}\r\n",
     BODY),
]  # fmt: skip


@pytest.mark.parametrize(("case", "headers", "body"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_framing_is_400_closed_and_journals_nothing(
    served: Served, case: str, headers: str, body: bytes
) -> None:
    started = time.monotonic()
    status, closed, _ = exchange(served, request(served, headers, body))
    assert status.split(" ")[1] == "400", (case, status)
    assert closed and time.monotonic() - started < 5
    assert served.journal.pending(10).empty
    ok = requests.post(served.url("gw1"), data=BODY, headers=bearer(served.tokens["gw1"]))
    assert ok.status_code == 200  # the listener still serves


@pytest.mark.parametrize(
    ("line", "status"),
    [
        (b"POST /push/gw1 HTTP/2.0", "505"),
        (b"POST /push/gw1 HTTP/1.x", "400"),
        (b"P@ST /push/gw1 HTTP/1.1", "400"),
        (b"POST /push/gw1 HTTP/1.1\n", "400"),  # bare LF line ends
    ],
)
def test_bad_request_lines(served: Served, line: bytes, status: str) -> None:
    data = line.rstrip(b"\n") + (b"\nHost: x\n" if line.endswith(b"\n") else b"\r\nHost: x\r\n")
    data += f"Authorization: Bearer {served.tokens['gw1']}\r\nContent-Length: {N}\r\n\r\n".encode()
    got, closed, _ = exchange(served, data + BODY)
    assert got.split(" ")[1] == status and closed
    assert served.journal.pending(10).empty


def test_truncated_or_multi_member_gzip_is_400_and_journals_nothing(served: Served) -> None:
    url, headers = served.url("gw1"), {**bearer(served.tokens["gw1"]), "Content-Encoding": "gzip"}
    whole = gzip.compress(points(40))
    cut = requests.post(url, data=whole[: len(whole) // 2], headers=headers)
    assert cut.status_code == 400 and "incomplete" in cut.json()["error"]
    two = gzip.compress(points(2)) + gzip.compress(points(3, sensor="X_500"))
    several = requests.post(url, data=two, headers=headers)
    assert several.status_code == 400 and "after its end" in several.json()["error"]
    garbage = requests.post(url, data=whole + b"junk", headers=headers)
    assert garbage.status_code == 400
    assert served.journal.pending(100).empty
    assert requests.post(url, data=whole, headers=headers).json()["received"] == 40


def test_unauthenticated_body_is_never_read(served: Served) -> None:
    """A 10 MB Content-Length without a token is answered at once, body unsent."""
    head = b"POST /push/gw1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
    started = time.monotonic()
    status, closed, got = exchange(served, head)
    assert status == "HTTP/1.1 401 Unauthorized" and closed
    assert b"Connection: close" in got and time.monotonic() - started < 3
    wrong = head.replace(b"Host: x", b"Host: x\r\nAuthorization: Bearer nope")
    assert exchange(served, wrong)[0] == "HTTP/1.1 401 Unauthorized"


def test_expect_continue_only_for_a_valid_token(served: Served) -> None:
    body = points(2)
    head = f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n"
    host, port = served.listener.address
    with socket.create_connection((host, port), timeout=5) as raw:
        raw.sendall(request(served, head))
        assert raw.recv(100).startswith(b"HTTP/1.1 100 Continue")
        raw.sendall(body)
        assert raw.recv(65536).startswith(b"HTTP/1.1 200 OK")
    refused = head.encode() + b"Authorization: Bearer nope\r\n\r\n"
    status, closed, _ = exchange(served, b"POST /push/gw1 HTTP/1.1\r\nHost: x\r\n" + refused)
    assert status == "HTTP/1.1 401 Unauthorized" and closed


def test_failed_token_checks_are_logged_without_the_token_and_slowed(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    url = served.url("gw1")
    took = []
    for _ in range(4):
        started = time.monotonic()
        answer = requests.post(url, data=BODY, headers=bearer("guessed-token-123"))
        took.append(time.monotonic() - started)
        assert answer.status_code == 401
    assert took[3] > took[0] + 0.4  # 0.1, 0.2, 0.4, 0.8 s
    text = caplog.text
    assert "refused from 127.0.0.1 for device 'gw1'" in text and "failure 4 in a row" in text
    assert "guessed-token-123" not in text
    good = requests.post(url, data=BODY, headers=bearer(served.tokens["gw1"]))
    assert good.status_code == 200


def test_slow_body_is_408_and_slow_head_is_closed(served: Served) -> None:
    head = request(served, "Content-Length: 100\r\n", b"[")
    started = time.monotonic()
    status, closed, _ = exchange(served, head, wait_s=10)
    assert status == "HTTP/1.1 408 Request Timeout" and closed
    assert 1.5 < time.monotonic() - started < 6
    host, port = served.listener.address
    with socket.create_connection((host, port), timeout=10) as raw:
        started = time.monotonic()
        raw.sendall(b"POST /push/gw1 HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        for _ in range(20):
            time.sleep(0.25)
            try:
                raw.sendall(b"X-Drip: 1\r\n")
            except OSError:
                break
        assert raw.recv(100) == b"" and time.monotonic() - started < 6
    assert served.journal.pending(10).empty


def test_idle_connections_beyond_the_cap_make_room_for_a_push(tmp_path: Path) -> None:
    s = start(tmp_path, max_connections=20, idle_timeout_s=60.0)
    try:
        host, port = s.listener.address
        idle = [socket.create_connection((host, port), timeout=5) for _ in range(60)]
        time.sleep(0.3)
        assert s.listener.open_connections <= 20
        answer = requests.post(s.url("gw1"), data=BODY, headers=bearer(s.tokens["gw1"]))
        assert answer.status_code == 200 and answer.json()["received"] == 3
        for sock in idle:
            sock.close()
    finally:
        s.listener.stop()


def test_a_failing_statistics_write_is_logged_not_raised(
    served: Served, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    requests.post(served.url("gw1"), data=BODY, headers=bearer(served.tokens["gw1"]))
    (tmp_path / "stats.json").unlink(missing_ok=True)
    (tmp_path / "stats.json").mkdir()  # the write now fails with IsADirectoryError
    served.listener.save_stats()
    assert "device statistics not saved" in caplog.text
    ok = requests.post(served.url("gw1"), data=BODY, headers=bearer(served.tokens["gw1"]))
    assert ok.status_code == 200


def raw_post(served: Served, target: str, extra: str = "", body: bytes = BODY) -> bytes:
    head = f"POST {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {served.tokens['gw1']}\r\n"
    return (head + extra + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.mark.parametrize(
    ("case", "target", "extra", "status"),
    [
        ("a 9 kB URL", "/push/gw1?" + "a" * 9000, "", "400"),
        ("a path that climbs", "/push/../push/gw1", "", "404"),
        ("another expectation", "/push/gw1", "Expect: 200-ok\r\n", "417"),
        ("an unknown content coding", "/push/gw1", "Content-Encoding: br\r\n", "415"),
        ("an absolute-form target", "http://127.0.0.1/push/gw1", "", "200"),
        ("a percent-encoded device name", "/push/g%771", "", "200"),
    ],
)
def test_other_hostile_or_odd_requests(
    served: Served, case: str, target: str, extra: str, status: str
) -> None:
    got = exchange(served, raw_post(served, target, extra), wait_s=3)[0]
    assert got.split(" ")[1] == status, case


def test_pipelined_requests_are_answered_in_order(served: Served) -> None:
    first, second = raw_post(served, "/push/gw1"), raw_post(served, "/push/gw1", body=points(4))
    got = exchange(served, first + second, wait_s=3)[2]
    answers = got.split(b"HTTP/1.1 ")[1:]
    assert [a[:3] for a in answers] == [b"200", b"200"]
    assert b'"received": 3' in answers[0] and b'"received": 4' in answers[1]


def test_a_kept_body_keeps_its_headers_but_never_credentials(served: Served) -> None:
    headers = {
        **bearer(served.tokens["gw1"]),
        "X-Gateway": "gw-7",
        "Cookie": "session=secret-cookie",
        "X-Api-Token": "secret-token",
    }
    answer = requests.post(served.url("gw1"), data=b"not json at all", headers=headers)
    assert answer.status_code == 202  # held for mapping (EpiSensor default)
    kept = served.captures.get(answer.json()["held"])
    assert kept is not None and kept.info.headers is not None
    assert kept.info.headers["x-gateway"] == "gw-7"
    stored = json.dumps(kept.info.headers)
    for secret in (served.tokens["gw1"], "secret-cookie", "secret-token"):
        assert secret not in stored
