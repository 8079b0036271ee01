"""Where a push body is read: small ones on the event loop, unless only pandas reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.core.push_readers import SlowPath, parse_payload
from tests.core.listener.test_listener import Served, bearer, start


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = start(tmp_path)
    yield s
    s.listener.stop()


def test_a_small_body_only_pandas_reads_is_read_off_the_loop_and_answered(
    served: Served,
) -> None:
    """An estimated reading steps the fast reader aside: the catalog connector (pandas) reads
    it on a worker thread, never on the event loop (`quick_only` refuses it there)."""
    reading = {"time": "2026-11-20T05:00:00Z", "value": 2.5, "estimated": True}
    data = json.dumps([{"channelImportId": "C9", "unitCode": "kWh", "readings": [reading]}])
    with pytest.raises(SlowPath):
        parse_payload("readings", data.encode(), "b.json", {"quick_only": True})
    headers = bearer(served.tokens["nuoz"])
    answer = requests.post(served.url("nuoz"), data=data.encode(), headers=headers)
    assert answer.status_code == 200, answer.text
    pending = served.journal.pending(10)
    assert list(pending["source_id"]) == ["C9"] and bool(pending["estimated"].iloc[0])
