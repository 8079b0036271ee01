"""The listener with its journal commits in a child process (as `meterbridge serve` runs it)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.core.journal.store import Journal
from app.core.listener.capture import CaptureStore
from app.core.listener.commit_process import CommitProcess
from app.core.listener.server import PushListener
from app.core.settings.listener import ListenerSettings
from app.core.sources.devices import DeviceRegistry
from app.core.sources.register_store import RegisterStore

T0 = 1_780_000_000


def _start(tmp: Path, journal_bytes: int = 10**9) -> tuple[PushListener, str]:
    devices = DeviceRegistry(tmp / "devices.json", tmp / "stats.json")
    token = devices.add("gw1", "episensor")
    journal = Journal(tmp / "journal.sqlite3", max_bytes=journal_bytes)
    listener = PushListener(
        ListenerSettings(port=0),
        devices,
        journal,
        RegisterStore(tmp / "registers.sqlite3"),
        CaptureStore(tmp / "captures.sqlite3", max_count=3, max_bytes=10**6),
    )
    listener.committer.remote = CommitProcess(
        journal.path, tmp / "registers.sqlite3", max_bytes=journal_bytes, retention_days=90
    )
    listener.start()
    return listener, token


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[PushListener, str]]:
    listener, token = _start(tmp_path)
    yield listener, token
    listener.stop()


def _push(
    listener: PushListener, token: str, sensor: str, values: list[float]
) -> requests.Response:
    body = [
        {"exportId": sensor, "timestamp": T0 + 900 * i, "value": v} for i, v in enumerate(values)
    ]
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(
        listener.url_for("gw1"), data=json.dumps(body), headers=headers, timeout=30
    )


def test_readings_and_register_intervals_are_committed_by_the_child(
    served: tuple[PushListener, str], tmp_path: Path
) -> None:
    listener, token = served
    plain = _push(listener, token, "000D6F0001A303D4_500", [1.5, 2.25, 3.0])
    assert plain.status_code == 200, plain.text
    assert plain.json()["journal"]["new"] == 3
    register = _push(listener, token, "000D6F0001A303D4_333", [100.0, 101.5, 104.0])
    assert register.status_code == 200, register.text
    assert register.json()["registers"] == {
        "points": 3, "intervals": 2, "resets": 0, "notes": []
    }  # fmt: skip
    pending = listener.committer.sink.pending(10)  # type: ignore[attr-defined]
    by_sensor = {
        sid: sorted(group["value"].tolist()) for sid, group in pending.groupby("source_id")
    }
    assert by_sensor == {
        "000D6F0001A303D4_500": [1.5, 2.25, 3.0],
        "000D6F0001A303D4_333": [1.5, 2.5],
    }


def test_a_full_journal_is_still_503(tmp_path: Path) -> None:
    listener, token = _start(tmp_path, journal_bytes=1000)
    try:
        answer = _push(listener, token, "000D6F0001A303D4_500", [1.0, 2.0])
        assert answer.status_code == 503 and "full" in answer.json()["error"]
    finally:
        listener.stop()


def test_a_killed_journal_process_is_replaced_and_nothing_acknowledged_is_lost(
    served: tuple[PushListener, str],
) -> None:
    listener, token = served
    assert _push(listener, token, "000D6F0001A303D4_500", [1.0]).status_code == 200
    remote = listener.committer.remote
    assert isinstance(remote, CommitProcess) and remote.process is not None
    os.kill(remote.process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while remote.process is not None and time.monotonic() < deadline:
        time.sleep(0.05)  # the answer reader sees the pipe close
    answer = _push(listener, token, "000D6F0001A303D4_500", [1.0, 2.0, 3.0])
    assert answer.status_code == 200, answer.text  # a new child took the group
    journal = answer.json()["journal"]
    assert (journal["new"], journal["unchanged_pending"]) == (2, 1)
    assert listener.committer.sink.counts()["pending"] == 3  # type: ignore[attr-defined]
