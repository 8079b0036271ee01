"""A Readings-API device's mapping hints reach the journal once, and again when they change.

The listener remembers the hints its commits wrote (`SentHints`) and the reader
leaves those out of later jobs; a hint whose commit failed is sent again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.core.readings_push import parse_push
from tests.core.listener.test_listener import Served, bearer, start


def body(hour: int, unit: str = "kWh", channels: tuple[str, ...] = ("C1", "C2")) -> bytes:
    kind = "Use" if unit == "kWh" else "Demand"
    return json.dumps(
        [
            {
                "channelImportId": channel,
                "observationTypeCode": kind,
                "unitCode": unit,
                "readings": [{"time": f"2026-11-20T{hour:02d}:00:00Z", "value": 1.5}],
            }
            for channel in channels
        ]
    ).encode()


def hints(served: Served) -> set[tuple[str, str | None]]:
    rows = served.journal.hints_for(["push:nuoz"]).get("push:nuoz", [])
    return {(row.source_id, row.unit) for row in rows}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = start(tmp_path)
    yield s
    s.listener.stop()


def push(served: Served, data: bytes) -> requests.Response:
    return requests.post(served.url("nuoz"), data=data, headers=bearer(served.tokens["nuoz"]))


def test_hints_are_sent_once_and_again_when_they_change(served: Served) -> None:
    assert push(served, body(1)).status_code == 200
    assert hints(served) == {("C1", "kWh"), ("C2", "kWh")}
    sent = served.listener.sent_hints.of("nuoz")
    assert len(sent) == 2
    again = parse_push(body(2), "b", {"sent_hints": sent})
    assert again is not None and again.info["mapping_hint"] == []  # nothing new to send
    assert len(again) == 2  # the readings are all there
    assert push(served, body(2)).status_code == 200
    assert hints(served) == {("C1", "kWh"), ("C2", "kWh")}
    changed = push(served, body(3, unit="kW", channels=("C1",)))  # a new hint for C1
    assert changed.status_code == 200
    assert hints(served) == {("C1", "kWh"), ("C1", "kW"), ("C2", "kWh")}
    assert len(served.listener.sent_hints.of("nuoz")) == 3


def test_hints_of_a_failed_commit_are_sent_again(tmp_path: Path) -> None:
    served = start(tmp_path, journal_bytes=1)  # the journal is full: every commit fails
    try:
        refused = push(served, body(1))
        assert refused.status_code == 503, refused.text
        assert served.listener.sent_hints.of("nuoz") == set()
        fresh = parse_push(body(1), "b", {"sent_hints": served.listener.sent_hints.of("nuoz")})
        assert fresh is not None and len(fresh.info["mapping_hint"]) == 2
    finally:
        served.listener.stop()
