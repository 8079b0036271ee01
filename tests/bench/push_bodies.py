"""Push bodies for the listener benchmarks: 50 readings each, times unique per request index.

Used by bench_listener.py and soak_listener.py (scripts, not collected by pytest).
"""

from __future__ import annotations

import json
import time
import uuid

T0 = 1_780_000_000
POINTS = 50
CHANNELS = 200  # channel import ids of the Readings-API device


def episensor_body(index: int, conn: int) -> tuple[bytes, str]:
    sensor = f"000D6F00{conn:08X}_500"
    start = T0 + index * POINTS * 60
    points = [
        {"exportId": sensor, "timestamp": start + k * 60, "value": round(index + k * 0.01, 2)}
        for k in range(POINTS)
    ]
    return json.dumps(points).encode(), "application/json"


def aculink_body(index: int, conn: int) -> tuple[bytes, str]:
    """A data-log JSON: 5 times x 10 kW parameters of one device."""
    start = T0 + index * 5 * 60
    document = {
        "timestamp": [start + k * 60 for k in range(5)],
        "gateway": {"serial": "S8P1"},
        "device": {
            "name": "dev",
            "serial": f"{conn}",
            "readings": [
                {
                    "param": f"DMD_P{p}_kW",
                    "unit": "kW",
                    "value": [f"{index % 97 + p + k / 10}" for k in range(5)],
                }
                for p in range(10)
            ],
        },
    }
    return json.dumps(document).encode(), "application/json"


REV_COLUMNS = [f"DMD_P_{n:03d}_kW" for n in range(1, 11)]


def acurev_body(index: int, conn: int) -> tuple[bytes, str]:
    """A data-log CSV of 5 rows x 10 demand channels as a multipart upload."""
    start = T0 + index * 5 * 60
    lines = ["timestamp," + ",".join(REV_COLUMNS)]
    lines += [
        f"{start + k * 60}," + ",".join(f"{index % 97 + c + k / 10}" for c in range(10))
        for k in range(5)
    ]
    csv = ("\r\n".join(lines) + "\r\n").encode()
    boundary = uuid.uuid4().hex
    name = f"Logger1-AHI26011008{conn % 10}-AcuRev2100-{start}-1min.csv"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="MODE"\r\n\r\nLOGFILEUPLOAD\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + csv
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def readings_body(index: int, conn: int) -> tuple[bytes, str]:
    """50 ReadingCreate entries, each one reading of a different channel import id."""
    time_text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T0 + index * 900))
    document = [
        {
            "channelImportId": f"CH{(index * POINTS + k) % CHANNELS:04d}",
            "observationTypeCode": "Demand",
            "unitCode": "kW",
            "readings": [{"time": time_text, "value": round(index % 97 + k / 100, 2)}],
        }
        for k in range(POINTS)
    ]
    return json.dumps(document).encode(), "application/json"


BODIES = {
    "episensor": episensor_body,
    "aculink810": aculink_body,
    "acurev2100": acurev_body,
    "readings": readings_body,
}


def request_bytes(kind: str, device: str, token: str, index: int, conn: int) -> bytes:
    body, content_type = BODIES[kind](index, conn)
    head = (
        f"POST /push/{device} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def channels_for(kind: str, connections: int) -> list[tuple[str, str]]:
    """(source id, channel import id) pairs of the mapping; the Readings-API kind has none."""
    if kind == "episensor":
        return [(f"000D6F00{c:08X}_500", f"CH{c:04d}") for c in range(connections)]
    if kind == "aculink810":
        return [
            (f"S8P1/{c}/DMD_P{p}_kW", f"CH{c * 10 + p:04d}")
            for c in range(connections)
            for p in range(10)
        ]
    if kind == "acurev2100":
        meters = sorted({c % 10 for c in range(connections)})  # from the file name
        return [
            (f"AHI26011008{m}/AcuRev2100/{n:03d}", f"CH{m * 10 + n - 1:04d}")
            for m in meters
            for n in range(1, 11)
        ]
    return []


def channel_count(kind: str, connections: int) -> int:
    return CHANNELS if kind == "readings" else max(len(channels_for(kind, connections)), 1)
