"""The push listener on loopback: auth, limits, gzip, multipart, capture, journal, TLS."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import requests

from app.core.journal.store import Journal
from app.core.listener.capture import CaptureStore
from app.core.listener.server import PushListener
from app.core.settings.listener import ListenerSettings
from app.core.sources.devices import DeviceRegistry
from app.core.sources.register_store import RegisterStore

T0 = 1780000000


@dataclass
class Served:
    listener: PushListener
    journal: Journal
    tokens: dict[str, str]
    captures: CaptureStore

    def url(self, device: str) -> str:
        return self.listener.url_for(device)


def start(tmp: Path, journal_bytes: int = 10**9, **overrides: object) -> Served:
    settings = ListenerSettings(port=0, **overrides)  # type: ignore[arg-type]
    devices = DeviceRegistry(tmp / "devices.json", tmp / "stats.json")
    tokens = {
        "link": devices.add("link", "aculink810", "Europe/London"),
        "gw1": devices.add("gw1", "episensor"),
        "rev1": devices.add("rev1", "acurev2100", "America/New_York"),
        "other": devices.add("other", "episensor"),
        "nuoz": devices.add("nuoz", "readings"),
    }
    journal = Journal(tmp / "journal.sqlite3", max_bytes=journal_bytes)
    captures = CaptureStore(tmp / "captures.sqlite3", max_count=3, max_bytes=10**6)
    listener = PushListener(settings, devices, journal, RegisterStore(tmp / "r.sqlite3"), captures)
    listener.start()
    return Served(listener, journal, tokens, captures)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = start(tmp_path)
    yield s
    s.listener.stop()


def points(n: int = 5, sensor: str = "000D6F0001A303D4_500", step: int = 60) -> bytes:
    return json.dumps(
        [{"exportId": sensor, "timestamp": T0 + i * step, "value": i * 1.5} for i in range(n)]
    ).encode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def test_token_forms_and_answers(served: Served) -> None:
    url, token = served.url("gw1"), served.tokens["gw1"]
    ok = requests.post(url, data=points(), headers=bearer(token), timeout=10)
    assert ok.status_code == 200, ok.text
    assert ok.json()["received"] == 5 and ok.json()["journal"]["new"] == 5
    basic = requests.post(url, data=points(6), auth=("gateway", token), timeout=10)
    assert basic.status_code == 200 and basic.json()["journal"]["new"] == 1
    query = requests.post(f"{url}?token={token}", data=points(6), timeout=10)
    assert query.json()["journal"]["unchanged_pending"] == 6
    assert requests.post(url, data=points(), timeout=10).status_code == 401
    wrong = requests.post(url, data=points(), headers=bearer("nope"), timeout=10)
    assert wrong.status_code == 401 and "not valid" in wrong.json()["error"]
    other = requests.post(url, data=points(), headers=bearer(served.tokens["other"]), timeout=10)
    assert other.status_code == 403
    missing = served.url("ghost")
    assert (
        requests.post(missing, data=points(), headers=bearer(token), timeout=10).status_code == 404
    )


def test_acknowledged_readings_are_in_the_journal_file(served: Served, tmp_path: Path) -> None:
    answer = requests.post(served.url("gw1"), data=points(50), headers=bearer(served.tokens["gw1"]))
    assert answer.status_code == 200
    pending = Journal(tmp_path / "journal.sqlite3").pending(1000)
    assert len(pending) == 50
    assert set(pending["source"]) == {"push:gw1"}
    assert pending["time"].min() == pd.Timestamp(T0, unit="s", tz="UTC")


def test_body_limit_20_mb_gzip_and_bomb(served: Served) -> None:
    url, headers = served.url("gw1"), bearer(served.tokens["gw1"])
    head = f"Authorization: Bearer {served.tokens['gw1']}\r\nContent-Length: {20 * 2**20}\r\n"
    big = over_the_cap(served, head, b"[" + b" " * 2**16)
    assert big.startswith(b"HTTP/1.1 413") and b"10485760" in big
    zipped = requests.post(
        url, data=gzip.compress(points(7)), headers={**headers, "Content-Encoding": "gzip"}
    )
    assert zipped.status_code == 200 and zipped.json()["received"] == 7
    bomb = gzip.compress(b"[" + b" " * (50 * 2**20) + b"]")
    assert len(bomb) < 200_000
    refused = requests.post(url, data=bomb, headers={**headers, "Content-Encoding": "gzip"})
    assert refused.status_code == 413


def test_chunked_body_is_read_and_capped(served: Served) -> None:
    url, headers = served.url("gw1"), bearer(served.tokens["gw1"])
    body = points(3)
    answer = requests.post(url, data=iter([body[:10], body[10:]]), headers=headers)
    assert answer.status_code == 200 and answer.json()["received"] == 3
    head = f"Authorization: Bearer {served.tokens['gw1']}\r\nTransfer-Encoding: chunked\r\n"
    megabyte = b"100000\r\n" + b" " * 2**20 + b"\r\n"
    assert over_the_cap(served, head, megabyte, repeat=12).startswith(b"HTTP/1.1 413")


def over_the_cap(served: Served, headers: str, chunk: bytes, repeat: int = 1) -> bytes:
    """The answer to a body over the cap, sent on a raw socket that is always closed.

    The listener answers 413 and closes without reading the rest, so sending
    may fail with a reset: what matters is the answer read before it.
    """
    for _ in range(3):  # a reset can overtake the answer: then it is sent again
        got = _send_over_the_cap(served, headers, chunk, repeat)
        if got:
            break
    return got


def _send_over_the_cap(served: Served, headers: str, chunk: bytes, repeat: int) -> bytes:
    host, port = served.listener.address
    head = f"POST /push/gw1 HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode()
    got = b""
    with socket.create_connection((host, port), timeout=10) as raw:
        try:
            raw.sendall(head)
            for _ in range(repeat):
                raw.sendall(chunk)
        except OSError:
            pass
        try:
            while part := raw.recv(65536):
                got += part
        except OSError:
            pass
    return got


def test_malformed_body_is_held_202_with_its_headers_or_400_when_refused(
    served: Served,
) -> None:
    url, headers = served.url("gw1"), bearer(served.tokens["gw1"])
    bad = b'{"points": [{"exportId": "x", "timestamp": 1, '
    answer = requests.post(url, data=bad, headers={**headers, "Content-Type": "text/json"})
    assert answer.status_code == 202, answer.text  # EpiSensor's format is inferred: held
    document = answer.json()
    assert document["status"] == "held for mapping"
    assert "not valid JSON" in document["problem"] and "line 1 column" in document["problem"]
    capture = served.captures.get(document["held"])
    assert capture is not None and capture.body == bad and capture.info.device == "gw1"
    assert capture.info.held and capture.info.content_type == "text/json"
    kept = {k.lower(): v for k, v in (capture.info.headers or {}).items()}
    assert kept["content-type"] == "text/json" and "authorization" not in kept
    stats = served.listener.devices.stats("gw1")
    assert stats.errors == 1 and "not valid JSON" in (stats.last_error or "")
    served.listener.devices.update("other", options={"on_unreadable": "refuse"})
    served.listener.devices.reload()
    refused = requests.post(served.url("other"), data=bad, headers=bearer(served.tokens["other"]))
    assert refused.status_code == 400 and "not valid JSON" in refused.json()["error"]
    capture = served.captures.get(refused.json()["captured"])
    assert capture is not None and not capture.info.held


def test_partial_problems_are_reported_and_captured(served: Served) -> None:
    body = json.dumps(
        [
            {"exportId": "A_500", "timestamp": T0, "value": 1},
            {"exportId": "A_500", "timestamp": T0 + 60, "value": "oops"},
        ]
    ).encode()
    answer = requests.post(served.url("gw1"), data=body, headers=bearer(served.tokens["gw1"]))
    document = answer.json()
    assert answer.status_code == 200 and document["received"] == 1
    assert "points[1].value" in document["problems"][0]
    assert served.captures.get(document["captured"]) is not None


def test_bad_time_is_held_quoting_the_value_and_the_expected_forms(served: Served) -> None:
    body = json.dumps([{"exportId": "X_333", "timestamp": "yesterday", "value": 1}]).encode()
    answer = requests.post(served.url("gw1"), data=body, headers=bearer(served.tokens["gw1"]))
    assert answer.status_code == 202
    error = answer.json()["problem"]
    assert "time 'yesterday' is neither ISO-8601 (e.g. 2026-03-29T01:30:00+00:00)" in error
    assert "nor epoch seconds/milliseconds" in error and "points[0].time" in error


def readings_body(*values: object) -> bytes:
    readings = [
        {"time": f"2026-11-20T10:{15 * i:02d}:00Z", "value": v} for i, v in enumerate(values)
    ]
    channel = {"meterImportId": "N1", "observationTypeCode": "Use", "unitCode": "kWh"}
    return json.dumps([{**channel, "readings": readings}]).encode()


def test_readings_push_with_nothing_readable_is_400_naming_the_problems(served: Served) -> None:
    headers = bearer(served.tokens["nuoz"])
    answer = requests.post(served.url("nuoz"), data=readings_body("x", None), headers=headers)
    assert answer.status_code == 400, answer.text
    document = answer.json()
    assert document["error"].startswith("no reading could be read; first problem:")
    assert document["problem_count"] == 2 and "readings[0]" in document["problems"][0]
    capture = served.captures.get(document["captured"])
    assert capture is not None and capture.info.device == "nuoz"
    assert len(served.journal.pending(10)) == 0


def test_readings_push_with_some_good_readings_is_200_listing_the_problems(
    served: Served,
) -> None:
    headers = bearer(served.tokens["nuoz"])
    answer = requests.post(served.url("nuoz"), data=readings_body(1.5, "x"), headers=headers)
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["received"] == 1 and document["journal"]["new"] == 1
    assert document["problem_count"] == 1 and "readings[1]" in document["problems"][0]


def test_captures_are_bounded_but_held_bodies_are_never_evicted(served: Served) -> None:
    url, headers = served.url("nuoz"), bearer(served.tokens["nuoz"])  # refused: captured
    ids = [
        requests.post(url, data=f"junk {i}", headers=headers).json()["captured"] for i in range(5)
    ]
    kept = [c.id for c in served.captures.list("nuoz")]
    assert kept == ids[:1:-1]
    assert served.captures.evicted == 2
    url, headers = served.url("gw1"), bearer(served.tokens["gw1"])  # held: never evicted
    answers = [requests.post(url, data=f"junk {i}", headers=headers) for i in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 503]
    assert "already held for mapping" in answers[3].json()["error"]
    held = [c.id for c in served.captures.list("gw1")]
    assert held == [a.json()["held"] for a in answers[2::-1]]
    assert served.captures.held_counts() == {"gw1": 3}


def test_multipart_acurev_csv_with_fields(served: Served) -> None:
    name = "Logger1-AHI260110088-AcuRev2100-1772952300-15min.csv"  # 2026-03-08T06:45Z
    csv_text = (
        "timestamp,EP_IMP_001_kWh,DMD_P_001_kW\n"
        "2026-03-08 01:45:00,10,1\n"
        "2026-03-08 03:00:00,12.5,2\n"
    )
    answer = requests.post(
        served.url("rev1"),
        files={"file": (name, csv_text.encode(), "text/csv")},
        data={"action": "upload", "datasource": "AHI260110088/AcuRev2100"},
        headers={"Authorization": f"Bearer {served.tokens['rev1']}"},
    )
    assert answer.status_code == 200, answer.text
    pending = served.journal.pending(100).sort_values(["quantity", "time"])
    rows = list(zip(pending["source_id"], pending["quantity"], pending["value"], strict=True))
    meter = "AHI260110088/AcuRev2100/001"
    assert rows == [(meter, "kW", 1.0), (meter, "kW", 2.0), (meter, "kWh", 2.5)]
    use = pending[pending["quantity"] == "kWh"].iloc[0]
    assert use["time"] == pd.Timestamp("2026-03-08T07:00Z")  # 03:00 EDT
    assert use["interval_s"] == 15 * 60  # 01:45 EST → 03:00 EDT is 15 minutes
    assert use["origin"].startswith(name)


def test_raw_body_takes_its_file_name_from_content_disposition(served: Served) -> None:
    name = "Logger1-AHI260110099-AcuRev2100-1772952300-15min.csv"
    csv_text = "timestamp,DMD_P_001_kW\n2026-03-08 01:45:00,1\n"
    headers = {
        "Authorization": f"Bearer {served.tokens['rev1']}",
        "Content-Type": "text/csv",
        "Content-Disposition": f'attachment; filename="{name}"',
    }
    answer = requests.post(served.url("rev1"), data=csv_text.encode(), headers=headers)
    assert answer.status_code == 200, answer.text
    pending = served.journal.pending(10)
    assert list(pending["source_id"]) == ["AHI260110099/AcuRev2100/001"]
    assert pending["origin"].iloc[0].startswith(name)


def test_register_resend_is_already_journaled(served: Served) -> None:
    url, headers = served.url("gw1"), bearer(served.tokens["gw1"])
    body = points(4, sensor="000D6F0001A303D4_333", step=900)
    first = requests.post(url, data=body, headers=headers).json()
    assert first["registers"]["intervals"] == 3 and first["journal"]["new"] == 3
    again = requests.post(url, data=body, headers=headers).json()
    assert again["journal"]["new"] == 0 and again["journal"]["unchanged_pending"] == 3


def test_journal_full_is_503(tmp_path: Path) -> None:
    s = start(tmp_path, journal_bytes=1000)
    try:
        answer = requests.post(s.url("gw1"), data=points(50), headers=bearer(s.tokens["gw1"]))
        assert answer.status_code == 503 and "full" in answer.json()["error"]
        assert answer.headers["Retry-After"] == "60"
    finally:
        s.listener.stop()


def test_lan_bind_needs_the_switch_and_stats_predict_next_push(tmp_path: Path) -> None:
    devices = DeviceRegistry(tmp_path / "d.json")
    journal = Journal(tmp_path / "j.sqlite3")
    listener = PushListener(
        ListenerSettings(host="0.0.0.0", port=0),
        devices,
        journal,
        RegisterStore(tmp_path / "r.sqlite3"),
        CaptureStore(tmp_path / "c.sqlite3"),
    )
    with pytest.raises(ValueError, match="allow_lan"):
        listener.start()
    devices.add("d", "episensor")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for k in range(3):
        devices.record_push("d", 10, now + timedelta(minutes=30 * k))
    stats = devices.stats("d")
    assert stats.readings_received == 30
    assert stats.next_expected == (now + timedelta(minutes=90)).isoformat(timespec="seconds")


def test_tls(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    command += ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [*command, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True
    )
    s = start(tmp_path, tls_cert=str(cert), tls_key=str(key))
    try:
        url = s.url("gw1")
        assert url.startswith("https://")
        answer = requests.post(
            url, data=points(2), headers=bearer(s.tokens["gw1"]), verify=str(cert)
        )
        assert answer.status_code == 200
    finally:
        s.listener.stop()


def test_broken_devices_file_keeps_known_devices(served: Served, tmp_path: Path) -> None:
    (tmp_path / "devices.json").write_text("{ broken")
    served.listener.devices.refresh()
    answer = requests.post(served.url("gw1"), data=points(2), headers=bearer(served.tokens["gw1"]))
    assert answer.status_code == 200


def snapshot(stamp: object, kwh: str, kw: str) -> dict[str, object]:
    return {
        "timestamp": stamp,
        "gateway": {"name": "AcuLink", "model": "AcuLink810", "serial": "S8P1"},
        "device": {
            "name": "Main",
            "serial": "221",
            "online": True,
            "readings": [
                {"param": "EP_IMP_kWh", "value": kwh, "unit": "kWh"},
                {"param": "DMD_P_kW", "value": kw, "unit": "kW"},
                {"param": "Va_V", "value": "230.1", "unit": "V"},
            ],
        },
    }


def test_aculink_snapshots_and_data_log(served: Served) -> None:
    url, headers = served.url("link"), bearer(served.tokens["link"])
    first = requests.post(url, json=snapshot(T0, "100.0", "5.5"), headers=headers).json()
    assert first["skipped_params"] == ["Va_V"] and first["journal"]["new"] == 1  # kW only
    local = "2026-05-28 21:41:40"  # T0 + 15 min in Europe/London (BST)
    requests.post(url, json=snapshot(local, "101.25", "----"), headers=headers)
    log = {
        "timestamp": [T0 + 1800, T0 + 2700],
        "gateway": {"serial": "S8P1"},
        "device": {"name": "Main", "serial": "221", "readings": [
            {"param": "EP_IMP_kWh", "unit": "kWh", "value": ["103", "nan"]},
            {"param": "DMD_P_kW", "unit": "kW", "value": ["6", "7"]}]},
    }  # fmt: skip
    requests.post(url, json=log, headers=headers)
    pending = served.journal.pending(100).sort_values(["quantity", "time"])
    rows = list(zip(pending["source_id"], pending["quantity"], pending["value"], strict=True))
    assert rows == [
        ("S8P1/221/DMD_P_kW", "kW", 5.5),
        ("S8P1/221/DMD_P_kW", "kW", 6.0),
        ("S8P1/221/DMD_P_kW", "kW", 7.0),
        ("S8P1/221/EP_IMP_kWh", "kWh", 1.25),
        ("S8P1/221/EP_IMP_kWh", "kWh", 1.75),
    ]
    use = pending[pending["quantity"] == "kWh"]
    assert list(use["time"]) == [pd.Timestamp(T0 + 900, unit="s", tz="UTC"),
                                 pd.Timestamp(T0 + 1800, unit="s", tz="UTC")]  # fmt: skip


def test_unfinished_body_is_408_after_the_body_timeout(tmp_path: Path) -> None:
    import socket

    s = start(tmp_path, body_timeout_s=0.3)
    try:
        host, port = s.listener.address
        head = f"POST /push/gw1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {s.tokens['gw1']}\r\n"
        with socket.create_connection((host, port), timeout=10) as raw:
            raw.sendall(head.encode() + b"Content-Length: 100\r\n\r\n{")  # never finished
            answer = raw.recv(1000)
            assert answer.startswith(b"HTTP/1.1 408") and b"Connection: close" in answer
            assert raw.recv(100) == b""  # closed: nothing acknowledged
        assert s.journal.pending(10).empty
    finally:
        s.listener.stop()
