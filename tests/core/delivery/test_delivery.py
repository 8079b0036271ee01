"""The delivery engine against the fake EnergyCAP on loopback, with a real journal."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.core.delivery import targets
from app.core.delivery.engine import DeliveryReport, deliver_pending
from app.core.energycap.client import EnergyCapClient, RetryPolicy
from app.core.journal.store import Journal
from app.core.mapping import MappingTable, parse_mapping_csv
from app.core.settings import EnergyCapSettings
from connectors.base import make_readings
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

KEY = "test-key"
FAST = EnergyCapSettings(
    batch_size=40, backoff_base_s=0.01, backoff_cap_s=0.05, task_poll_s=0.02, timeout_s=2.0
)


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        for n in (1, 2, 3):
            server.add_meter(
                meter_id=n,
                import_id=f"M{n}",
                channels=[FakeChannel(10 + n, f"C1{n}", "Use", "kWh", 1800)],
                time_zone="Europe/London",
            )
        yield server


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


def client_for(fake: FakeEnergyCap, key: str = KEY, attempts: int = 3) -> EnergyCapClient:
    retry = RetryPolicy(max_attempts=attempts, base_s=0.01, cap_s=0.05)
    return EnergyCapClient(fake.url, key, timeout_s=2.0, retry=retry)


MAPPING = parse_mapping_csv(
    "source_id,channel_import_id\nMPAN1,C11\nMPAN2,C12\nMPAN3,C13\n", "mapping.csv"
)


def day(source_id: str, start: str = "2026-10-25", tz: str = "Europe/London", base: float = 1.0):
    """A local day of half-hours (50 on the autumn clock-change day in London)."""
    begin = pd.Timestamp(start, tz=tz)
    end = (pd.Timestamp(start) + pd.Timedelta(days=1)).tz_localize(tz)
    times = pd.date_range(begin, end, freq="30min", inclusive="right")
    values = [round(base + i * 0.125, 3) for i in range(len(times))]
    return make_readings(source_id=source_id, time=times, value=values, interval_s=1800)


def run(
    journal: Journal, fake: FakeEnergyCap, settings=FAST, mapping: MappingTable = MAPPING, **kw
) -> DeliveryReport:
    return deliver_pending(journal, client_for(fake), settings, mapping, **kw)


def at_fake(fake: FakeEnergyCap, channel_id: int) -> list[tuple[pd.Timestamp, float]]:
    frame = fake.readings_for(channel_id)
    return list(zip(frame["time"], frame["value"], strict=True))


def expected(readings: pd.DataFrame) -> list[tuple[pd.Timestamp, float]]:
    return list(zip(readings["time"], readings["value"], strict=True))


def posts(fake: FakeEnergyCap, path: str = "/api/v3/reading") -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path == path)


def test_pending_readings_arrive_exactly_and_are_confirmed(journal, fake) -> None:
    sent = {n: day(f"MPAN{n}", base=n) for n in (1, 2, 3)}
    for frame in sent.values():
        journal.accept(frame, source="hh")
    report = run(journal, fake)
    assert report.complete, report
    assert report.confirmed == 150 and report.requests == 4  # 150 readings, 40 per request
    for n, frame in sent.items():
        assert at_fake(fake, 10 + n) == expected(frame)
    assert journal.counts()["confirmed"] == 150
    receipts = journal.receipts()
    assert {r["http_status"] for r in receipts} == {200}
    assert sum(r["confirmed"] for r in receipts) == 150


def test_sending_the_same_readings_again_sends_nothing(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    run(journal, fake)
    before = posts(fake)
    again = journal.accept(day("MPAN1"), source="hh")
    assert (again.new, again.already_delivered) == (0, 50)
    report = run(journal, fake)
    assert report.complete and report.confirmed == 0
    assert posts(fake) == before


def test_same_readings_from_another_source_are_recognised_at_the_channel(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    run(journal, fake)
    before = posts(fake)
    assert journal.accept(day("MPAN1"), source="copy-of-file").new == 50
    report = run(journal, fake)
    assert (report.already_delivered, report.confirmed, posts(fake)) == (50, 0, before)


def test_a_crowded_time_span_is_looked_up_pair_by_pair_with_the_same_verdicts(
    journal, fake, monkeypatch
) -> None:
    # Other channels' confirmed readings fill the batch's time span: the lookup goes
    # (target, time) pair by pair and still finds what EnergyCAP has, value by value.
    monkeypatch.setattr(targets, "SPAN_ROWS_FLOOR", 0)
    monkeypatch.setattr(targets, "SPAN_ROWS_PER_READING", 0)
    for n in (1, 2, 3):
        journal.accept(day(f"MPAN{n}", base=n), source="hh")
    run(journal, fake)
    before = posts(fake)
    journal.accept(day("MPAN1", base=1), source="copy-of-file")
    changed = day("MPAN2", base=9.0)
    journal.accept(changed.iloc[:10], source="other")
    report = run(journal, fake)
    assert (report.already_delivered, report.held, report.confirmed) == (50, 10, 0)
    assert posts(fake) == before and at_fake(fake, 12) == expected(day("MPAN2", base=2))


def test_changed_values_are_held_until_overwrite(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    run(journal, fake)
    changed = day("MPAN1", base=7.0)
    assert journal.accept(changed, source="hh").changed_held == 50
    report = run(journal, fake)
    assert report.confirmed == 0 and at_fake(fake, 11) == expected(day("MPAN1"))
    report = run(journal, fake, overwrite=True)
    assert report.complete and report.confirmed == 50
    assert at_fake(fake, 11) == expected(changed)


def test_changed_value_from_another_source_is_held_at_delivery(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    run(journal, fake)
    journal.accept(day("MPAN1", base=3.0), source="other")
    report = run(journal, fake)
    assert report.held == 50 and not report.complete
    assert all("--overwrite" in r for r in journal.held_readings("other")["reason"])
    assert at_fake(fake, 11) == expected(day("MPAN1"))
    assert run(journal, fake, overwrite=True).confirmed == 50
    assert at_fake(fake, 11) == expected(day("MPAN1", base=3.0))


def test_rejected_readings_go_to_dead_letters_and_replay_after_a_mapping_fix(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    journal.accept(day("MPAN9"), source="hh")  # unmapped: meterImportId MPAN9 is unknown
    report = run(journal, fake)
    assert (report.confirmed, report.rejected) == (50, 50)
    letters = journal.dead_letters()
    assert set(letters["source_id"]) == {"MPAN9"}
    assert all("MPAN9" in reason for reason in letters["reason"])
    fixed = parse_mapping_csv("source_id,channel_import_id\nMPAN1,C11\nMPAN9,C13\n")
    assert journal.replay(source="hh") == 50
    report = run(journal, fake, mapping=fixed)
    assert report.complete and report.confirmed == 50
    assert at_fake(fake, 13) == expected(day("MPAN9"))


def test_single_readings_refused_by_energycap_are_traced(journal, fake) -> None:
    fake.reject_values_above = 6.0
    readings = day("MPAN1")
    journal.accept(readings, source="hh")
    report = run(journal, fake)
    too_big = readings["value"] > 6.0
    assert report.rejected == int(too_big.sum()) > 0
    assert report.confirmed == int((~too_big).sum())
    letters = journal.dead_letters()
    assert sorted(letters["value"]) == sorted(readings.loc[too_big, "value"])


def test_outage_stops_cleanly_then_delivery_resumes(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    fake.outage("/api/v3/reading")
    report = run(journal, fake)
    assert report.stopped and "did not answer" in report.stopped
    assert report.pending_left == 50 and fake.readings().empty
    assert journal.receipts()[0]["status"] == "TransientError"
    fake.clear_faults()
    assert run(journal, fake).complete
    assert at_fake(fake, 11) == expected(day("MPAN1"))


def test_outage_is_waited_out_within_patience(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    fake.outage("/api/v3/reading", status=503)
    threading.Timer(0.6, fake.clear_faults).start()
    report = run(journal, fake, patience_s=20.0)
    assert report.complete and at_fake(fake, 11) == expected(day("MPAN1"))


def test_throttling_honours_retry_after(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    fake.inject("/api/v3/reading", status=429, times=2, retry_after=0.3)
    began = time.monotonic()
    report = run(journal, fake)
    assert report.complete
    assert time.monotonic() - began >= 0.55  # two Retry-After waits of 0.3 s
    assert [r.status for r in fake.requests if r.path == "/api/v3/reading"][:2] == [429, 429]


def test_dropped_connections_and_slow_answers_are_retried(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    fake.inject("/api/v3/reading", status=None, times=1, drop=True)
    fake.inject("/api/v3/reading", status=None, times=1, delay_s=0.5)
    settings = dataclasses.replace(FAST, batch_size=5000)
    client = EnergyCapClient(
        fake.url, KEY, timeout_s=0.2, retry=RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.02)
    )
    report = deliver_pending(journal, client, settings, MAPPING)
    assert report.complete
    assert at_fake(fake, 11) == expected(day("MPAN1"))


def test_wrong_api_key_stops_and_keeps_everything_pending(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    report = deliver_pending(journal, client_for(fake, key="not-the-key-123"), FAST, MAPPING)
    assert report.auth_failed and "API key" in report.stopped
    assert "not-the-key-123" not in report.stopped
    assert report.pending_left == 50


def test_import_api_polls_the_task_and_traces_refused_rows(journal, fake) -> None:
    fake.reject_values_above = 6.0
    readings = day("MPAN2", tz="America/New_York", start="2026-11-01")
    journal.accept(readings, source="hh")
    settings = dataclasses.replace(FAST, api="import")
    report = run(journal, fake, settings=settings)
    too_big = readings["value"] > 6.0
    assert (report.confirmed, report.rejected) == (int((~too_big).sum()), int(too_big.sum()))
    assert at_fake(fake, 12) == expected(readings.loc[~too_big])
    receipt = journal.receipts()[0]
    assert receipt["task_guid"] and receipt["api"] == "import"
    assert all("Line" in r for r in journal.dead_letters()["reason"])


def test_cancel_leaves_the_rest_pending(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    calls = []
    report = run(journal, fake, cancel=lambda: len(calls) > 0, progress=calls.append)
    assert report.cancelled and report.confirmed == 40 and report.pending_left == 10


def test_failures_echoed_by_another_identifier_are_found_by_time() -> None:
    from app.core.delivery.trace import readings_rejections
    from app.core.energycap.client import FailedChannel, ReadingResult
    from app.core.energycap.exporter import ApiBatch

    body = [
        {
            "channelImportId": "C11",
            "readings": [
                {"time": "2026-01-01T00:30:00+00:00", "value": 1.0},
                {"time": "2026-01-01T01:00:00+00:00", "value": 2.0},
            ],
        }
    ]
    batch = ApiBatch(body=body, rows=np.array([7, 8]))
    failure = FailedChannel(
        target={"channelId": 11},
        error=None,
        readings=[{"time": "2026-01-01T01:00:00Z", "value": 2.0, "error": "too big"}],
    )
    answer = ReadingResult(imported=1, failed=1, failures=[failure], status=200)
    assert readings_rejections(batch, answer) == {8: "too big"}


def test_a_second_deliverer_of_the_same_journal_stands_aside(journal, fake) -> None:
    from app.core.journal.lock import DeliveryLock

    journal.accept(day("MPAN1"), source="hh")
    other = DeliveryLock(journal.path)  # as another process would hold it
    assert other.acquire()
    report = run(journal, fake)
    assert "another delivery" in report.stopped and report.pending_left == 50
    assert fake.readings().empty
    other.release()
    assert run(journal, fake).complete


def test_esa_channels_receive_exactly_and_refusals_are_traced(journal, fake) -> None:
    fake.add_esa_channel(71, "ESA-1", "DP-1", "Use", "kWh", 30)
    fake.reject_reading = lambda channel, when, value: "bad" if value > 6.0 else None
    readings = day("MPAN7")
    journal.accept(readings, source="hh")
    mapping = parse_mapping_csv("source_id,channel_import_id\nMPAN7,ESA-1\n")
    report = run(journal, fake, settings=dataclasses.replace(FAST, api="esa"), mapping=mapping)
    ok = readings["value"] <= 6.0
    assert (report.confirmed, report.rejected) == (int(ok.sum()), int((~ok).sum()))
    assert at_fake(fake, 71) == expected(readings.loc[ok])
    assert posts(fake, "/api/v202407/esaReading") == 2


def test_import_task_that_outlasts_its_timeout_leaves_readings_pending(journal, fake) -> None:
    fake.task_delay_s = 1.0
    journal.accept(day("MPAN1"), source="hh")
    settings = dataclasses.replace(FAST, api="import", task_timeout_s=0.2)
    report = run(journal, fake, settings=settings)
    assert report.stopped and "had not ended" in report.stopped
    assert report.pending_left == 50
    fake.wait_tasks()
    assert run(journal, fake, settings=dataclasses.replace(FAST, api="import")).complete
    assert at_fake(fake, 11) == expected(day("MPAN1"))
