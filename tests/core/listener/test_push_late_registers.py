"""Late register batches after delivery, end to end: listener → journal → fake EnergyCAP.

The acceptance sequence of issue 5: batch 1, batch 3 (ahead), delivery, then
the late batch 2. EnergyCAP must end with exactly the in-order result.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from app.core.delivery.engine import deliver_pending
from app.core.energycap.client import EnergyCapClient, RetryPolicy
from app.core.journal.store import Journal
from app.core.listener.capture import CaptureStore
from app.core.listener.server import PushListener
from app.core.mapping import parse_mapping_csv
from app.core.settings import EnergyCapSettings
from app.core.settings.listener import ListenerSettings
from app.core.sources.devices import DeviceRegistry
from app.core.sources.register_store import RegisterStore
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

KEY = "test-key"
FAST = EnergyCapSettings(backoff_base_s=0.01, backoff_cap_s=0.05, task_poll_s=0.02, timeout_s=2.0)
A, B = "000D6F0001A303D4_333", "000D6F0001A303D4_300"
BASE = datetime(2026, 11, 20, tzinfo=UTC)
TIMES = [BASE + timedelta(minutes=15 * i) for i in range(9)]
REG333 = [1000.00, 1001.25, 1003.50, 1003.75, 1005.00, 1006.10, 1007.00, 1007.80, 1009.05]
REG300 = [500.00, 500.40, 500.90, 501.00, 0.50, 0.70, 1.10, 1.30, 1.35]  # reset at 01:00
MAPPING = parse_mapping_csv(f"source_id,channel_import_id\n{A},C333\n{B},C300\n", "mapping.csv")


class Rig:
    """A real listener, journal and register store, delivering to the fake EnergyCAP."""

    def __init__(self, tmp: Path, fake: FakeEnergyCap) -> None:
        devices = DeviceRegistry(tmp / "devices.json", tmp / "stats.json")
        self.token = devices.add("gw1", "episensor")
        self.journal = Journal(tmp / "journal.sqlite3")
        registers = RegisterStore(tmp / "registers.sqlite3")
        captures = CaptureStore(tmp / "captures.sqlite3", max_count=3, max_bytes=10**6)
        settings = ListenerSettings(port=0)
        self.listener = PushListener(settings, devices, self.journal, registers, captures)
        self.listener.start()
        self.fake = fake

    def push(
        self, indexes: list[int], values: dict[str, list[float]] | None = None
    ) -> dict[str, Any]:
        series = values or {A: REG333, B: REG300}
        data = [
            {"exportId": sid, "timestamp": TIMES[i].strftime("%Y-%m-%dT%H:%M:%SZ"), "value": v[i]}
            for i in indexes
            for sid, v in series.items()
        ]
        answer = requests.post(
            self.listener.url_for("gw1"),
            data=json.dumps({"data": data}),
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def deliver(self) -> None:
        retry = RetryPolicy(max_attempts=3, base_s=0.01, cap_s=0.05)
        client = EnergyCapClient(self.fake.url, KEY, timeout_s=2.0, retry=retry)
        deliver_pending(self.journal, client, FAST, MAPPING)

    def at_fake(self, channel_id: int) -> list[tuple[pd.Timestamp, float, bool]]:
        frame = self.fake.readings_for(channel_id)
        return [
            (t, round(float(v), 6), bool(e))
            for t, v, e in zip(frame["time"], frame["value"], frame["estimated"], strict=True)
        ]


def in_order(values: list[float]) -> list[tuple[pd.Timestamp, float, bool]]:
    """What EnergyCAP holds when every point arrives in order (a drop counts from zero)."""
    out = []
    for i in range(1, len(values)):
        reset = values[i] < values[i - 1]
        use = values[i] if reset else values[i] - values[i - 1]
        out.append((pd.Timestamp(TIMES[i]), round(use, 6), reset))
    return out


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with FakeEnergyCap(api_key=KEY) as fake:
        for meter, channel in ((1, 333), (2, 300)):
            fake.add_meter(
                meter_id=meter,
                import_id=f"M{channel}",
                channels=[FakeChannel(channel, f"C{channel}", "Use", "kWh", 900)],
                time_zone="UTC",
            )
        served = Rig(tmp_path, fake)
        yield served
        served.listener.stop()


def test_late_batch_after_delivery_gives_the_in_order_result(rig: Rig) -> None:
    rig.push([0, 1, 2, 3])
    rig.push([0, 1, 2, 3])  # a resend
    rig.push([7, 8])  # ahead of batch 2
    rig.deliver()
    assert (pd.Timestamp(TIMES[7]), 4.05, False) in rig.at_fake(333)  # 00:45 → 01:45
    late = rig.push([4, 5, 6])
    assert late["journal"]["superseded"] == 2 and late["journal"].get("changed_held", 0) == 0
    assert any("splits the interval" in note for note in late["registers"]["notes"])
    rig.deliver()
    assert rig.at_fake(333) == in_order(REG333)
    assert rig.at_fake(300) == in_order(REG300)  # 01:45 no longer flagged as a reset
    assert rig.journal.counts()["held_changes"] == 0
    receipt = rig.journal.reading_receipts(A)
    corrected = receipt[receipt["time"] == pd.Timestamp(TIMES[7])].iloc[0]
    assert corrected["state"] == "confirmed" and corrected["value"] == pytest.approx(0.80)
    assert "late register point at 2026-11-20T01:30:00" in corrected["reason"]
    assert "00:45:00" in corrected["reason"]


def test_a_different_raw_value_for_a_delivered_time_is_still_held(rig: Rig) -> None:
    rig.push([0, 1, 2, 3])
    rig.deliver()
    changed = {A: [*REG333[:2], 1003.00, *REG333[3:]]}  # 00:30 resent with another value
    answer = rig.push([2], changed)
    assert answer["journal"]["changed_held"] == 2  # the intervals ending at 00:30 and 00:45
    assert answer["journal"].get("superseded", 0) == 0
    rig.deliver()
    assert rig.at_fake(333) == in_order(REG333[:4])  # EnergyCAP unchanged until a decision
    assert rig.journal.counts()["held_changes"] == 2


def test_a_superseded_reading_in_flight_is_sent_again_with_its_new_value(tmp_path: Path) -> None:
    from app.core.journal.queue import Outcome
    from connectors.base import make_readings

    journal = Journal(tmp_path / "journal.sqlite3")
    at = pd.Timestamp(TIMES[7])
    journal.accept(make_readings(source_id=A, time=[at], value=[4.05], interval_s=3600), source="s")
    pending = journal.pending(10)
    ids = [int(i) for i in pending["id"]]
    batch = journal.start_batch("readings", ids, dict(zip(ids, pending["version"], strict=True)))
    key = (A, "kWh", int(at.value))
    again = make_readings(source_id=A, time=[at], value=[0.80], interval_s=900)
    result = journal.accept(again, source="s", supersede={key: "superseded: re-derived"})
    assert result.superseded == 1 and result.changed_held == 0
    journal.finish_batch(batch, Outcome(status="done", confirmed=ids))  # the old value's answer
    now_pending = journal.pending(10)
    assert now_pending["value"].tolist() == [0.80] and now_pending["overwrite"].tolist() == [True]


def test_only_a_split_with_both_neighbours_stored_supersedes(tmp_path: Path) -> None:
    from connectors.base import make_readings

    store = RegisterStore(tmp_path / "registers.sqlite3")

    def derive(indexes: list[int]) -> dict[tuple[str, str, int], str]:
        frame = make_readings(
            source_id=A,
            quantity="kWh-register",
            unit="kWh",
            time=[TIMES[i] for i in indexes],
            value=[REG333[i] for i in indexes],
        )
        return store.derive(frame, source="push:gw1").supersede

    assert derive([0, 3, 4]) == {}
    assert list(derive([1])) == [(A, "kWh", int(pd.Timestamp(TIMES[3]).value))]
    cutoff_days = (datetime.now(UTC) - TIMES[4]).total_seconds() / 86_400 - 0.001
    assert store.prune(cutoff_days) == 3  # only the latest point, 01:00, is kept
    assert derive([2]) == {}  # nothing stored before 00:30: its interval is a changed value
    store.close()
