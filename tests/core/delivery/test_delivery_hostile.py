"""Delivery against an EnergyCAP that does not behave, and readings that cannot be sent.

Nothing is confirmed that an answer does not account for; no single reading
stops the queue; an unexpected error leaves the batch pending, said once.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from app.core.delivery.engine import DeliveryStop, deliver_pending
from app.core.energycap.client import EnergyCapClient, RetryPolicy
from app.core.journal.marks import MAX_UNACCOUNTED
from app.core.journal.store import Journal
from app.core.mapping import parse_mapping_csv
from tests.core.delivery.test_delivery import FAST, KEY, MAPPING, at_fake, day, expected, run
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.fakes.recorder import Recorder


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        for n in (1, 2, 3):
            channel = FakeChannel(10 + n, f"C1{n}", "Use", "kWh", 1800)
            server.add_meter(n, f"M{n}", [channel], "Europe/London")
        yield server


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


UNACCOUNTED = ["vague_counts", "fewer_imported", "html", "truncated", "empty", "json_list"]


@pytest.mark.parametrize("mode", UNACCOUNTED)
def test_an_answer_that_does_not_account_for_readings_confirms_none(journal, fake, mode) -> None:
    readings = day("MPAN1")
    journal.accept(readings, source="hh")
    fake.hostile(mode, "/api/v3/reading")
    report = run(journal, fake)
    assert report.confirmed == 0 and report.unconfirmed == 50 and not report.complete
    assert report.notes and "kept pending" in report.notes[0]
    assert journal.counts()["pending"] == 50 and journal.counts()["confirmed"] == 0
    assert journal.receipts()[0]["status"] == "unaccounted"
    fake.clear_hostile()  # an honest EnergyCAP: the next run delivers them all
    again = run(journal, fake)
    assert again.complete and again.confirmed == 50
    assert at_fake(fake, 11) == expected(readings)


def test_readings_no_answer_accounts_for_are_dead_lettered_after_a_few_tries(journal, fake) -> None:
    readings = day("MPAN1")
    journal.accept(readings, source="hh")
    fake.hostile("vague_counts", "/api/v3/reading")
    for _ in range(MAX_UNACCOUNTED - 1):  # each run sends them once and keeps them pending
        report = run(journal, fake)
        assert (report.unconfirmed, report.rejected) == (50, 0)
    assert journal.counts()["pending"] == 50
    last = run(journal, fake)
    assert (last.unconfirmed, last.rejected, last.confirmed) == (0, 50, 0)
    assert any(f"did not account for this reading {MAX_UNACCOUNTED} times" in r
               for r in last.reasons)  # fmt: skip
    dead = journal.dead_letters()
    assert len(dead) == 50 and dead["reason"].str.contains("meterbridge replay").all()
    assert journal.counts()["pending"] == 0 and journal.counts()["confirmed"] == 0
    fake.clear_hostile()
    assert journal.replay() == 50  # after a look at EnergyCAP: sent again, counted afresh
    again = run(journal, fake)
    assert again.complete and again.confirmed == 50
    assert at_fake(fake, 11) == expected(readings)


def test_an_outage_does_not_count_towards_the_dead_letter(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    fake.outage("/api/v3/reading")
    for _ in range(MAX_UNACCOUNTED):
        assert run(journal, fake).pending_left == 50
    fake.clear_faults()
    report = run(journal, fake)
    assert report.complete and report.confirmed == 50 and report.rejected == 0


@pytest.mark.parametrize("mode", ["vague_counts", "html"])
def test_esa_answers_are_reconciled_the_same_way(journal, fake, mode) -> None:
    fake.add_esa_channel(71, "ESA-1", "DP-1", "Use", "kWh", 30)
    readings = day("MPAN7")
    journal.accept(readings, source="hh")
    mapping = parse_mapping_csv("source_id,channel_import_id\nMPAN7,ESA-1\n", "m.csv")
    esa = dataclasses.replace(FAST, api="esa")
    fake.hostile(mode, "/api/v202407/esaReading")
    report = run(journal, fake, settings=esa, mapping=mapping)
    assert report.confirmed == 0 and report.unconfirmed == 50
    fake.clear_hostile()
    assert run(journal, fake, settings=esa, mapping=mapping).complete
    assert at_fake(fake, 71) == expected(readings)


def test_named_failures_are_dead_lettered_even_when_the_counts_are_vague(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    fake.reject_values_above = 6.0  # 9 readings fail, each named in failedReadings
    fake.hostile("overcount", "/api/v3/reading")  # ... but 2 more are counted
    report = run(journal, fake)
    assert report.rejected == 9 and report.confirmed == 0 and report.unconfirmed == 41
    assert "counted 2 failed readings but named 0" in report.notes[0]  # the first request
    assert "counted 11 failed readings but named 9" in report.notes[1]
    assert journal.counts()["pending"] == 41


def test_a_redirect_confirms_nothing_and_sends_the_key_nowhere(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    with Recorder() as elsewhere:
        fake.hostile("redirect", value=f"{elsewhere.url}/api/v3/reading", status=308)
        report = run(journal, fake)
        assert elsewhere.seen == []
    assert report.auth_failed and report.confirmed == 0 and report.requests == 0
    assert "redirect (HTTP 308)" in (report.stopped or "")
    assert journal.counts()["pending"] == 50


def test_garbage_retry_after_costs_no_reading(journal, fake) -> None:
    readings = day("MPAN1")
    journal.accept(readings, source="hh")
    fake.hostile("retry_after", "/api/v3/reading", times=1, value="nan")
    fake.hostile("retry_after", "/api/v3/reading", times=1, value="-5", status=503)
    report = run(journal, fake)
    assert report.complete and report.confirmed == 50
    assert at_fake(fake, 11) == expected(readings)


def _raw_insert(journal: Journal, value: float, minute: int) -> None:
    """A value stored before the journal refused non-finite ones (an older journal)."""
    with sqlite3.connect(journal.path) as conn:
        stamp = pd.Timestamp("2026-10-25 05:00", tz="UTC") + pd.Timedelta(minutes=minute)
        conn.execute(
            "INSERT INTO readings (source, source_id, quantity, unit, time, interval_s, value,"
            " estimated, origin, accepted_at) VALUES ('old', 'MPAN2', 'kWh', 'kWh', ?, 1800, ?,"
            " 0, 'old.csv:7:3', 0)",
            (stamp.value, value),
        )


def test_a_reading_that_cannot_be_sent_is_dead_lettered_alone(journal, fake) -> None:
    """The poison pill: one unsendable reading never stops the queue."""
    good = day("MPAN1")
    journal.accept(good, source="hh")
    _raw_insert(journal, float("inf"), 0)
    big = day("MPAN3", base=1e308)  # 1e308 x the mapping's multiplier 10 is inf
    journal.accept(big.iloc[:1], source="hh")
    mapping = parse_mapping_csv(
        "source_id,channel_import_id,multiplier\nMPAN1,C11,\nMPAN2,C12,\nMPAN3,C13,10\n", "m.csv"
    )
    report = run(journal, fake, mapping=mapping)
    assert report.confirmed == 50 and report.not_sent == 2 and report.stopped is None
    assert at_fake(fake, 11) == expected(good)
    letters = journal.dead_letters()
    assert sorted(letters["source_id"]) == ["MPAN2", "MPAN3"]
    assert all("not a finite number" in r for r in letters["reason"])
    assert "old.csv:7:3" in letters["origin"].tolist()


def test_an_unknown_interval_refuses_only_that_source(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    snapshot = day("MPAN2").assign(interval_s=0)
    journal.accept(snapshot, source="push")
    report = run(journal, fake, settings=FAST.__class__(**{**FAST.__dict__, "time_label": "start"}))
    assert report.confirmed == 50 and report.not_sent == 50
    assert set(journal.dead_letters()["source_id"]) == {"MPAN2"}
    assert "interval length unknown" in journal.dead_letters()["reason"].iloc[0]


def test_an_unexpected_error_leaves_the_batch_pending_and_is_logged_once(
    journal, fake, caplog
) -> None:
    journal.accept(day("MPAN1"), source="hh")
    calls = []

    def broken_cancel() -> bool:  # a caller's callback that fails while a request waits
        calls.append(1)
        if len(calls) > 2:
            raise RuntimeError("callback broke")
        return False

    caplog.set_level(logging.WARNING, logger="app.core.delivery")
    for _ in range(2):
        calls.clear()
        fake.inject("/api/v3/reading", status=503, times=1)
        report = run(journal, fake, cancel=broken_cancel)
        assert report.failed and "RuntimeError: callback broke" in (report.stopped or "")
        assert journal.counts()["pending"] == 50 and journal.counts()["sent"] == 0
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1  # the second time: one line, no traceback again
    assert journal.receipts()[0]["status"] == "RuntimeError"
    assert run(journal, fake).complete  # nothing was left half-done


def test_stopping_ends_a_long_retry_after_wait_at_once(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    fake.hostile("retry_after", "/api/v3/reading", value="300")
    stop = DeliveryStop()
    retry = RetryPolicy(max_attempts=8, base_s=0.01, cap_s=0.05)
    client = EnergyCapClient(fake.url, KEY, retry=retry, sleep=stop.wait)
    found = {}

    def deliver() -> None:
        found["report"] = deliver_pending(
            journal, client, FAST, MAPPING, cancel=stop.is_set, sleep=stop.wait
        )

    worker = threading.Thread(target=deliver)
    worker.start()
    time.sleep(0.5)
    began = time.monotonic()
    stop.set()
    worker.join(10)
    assert time.monotonic() - began < 2.0
    report = found["report"]
    assert report.cancelled and report.confirmed == 0
    assert journal.counts()["pending"] == 50
    assert len([r for r in fake.requests if r.path == "/api/v3/reading"]) == 1


def test_the_stop_wait_takes_any_number() -> None:
    stop = DeliveryStop()
    assert stop.wait(float("nan")) is False and stop.wait(-3) is False
    stop.set()
    assert stop.wait(float("inf")) is True


def test_an_honest_answer_without_a_failed_count_confirms_the_rest() -> None:
    """`failedReadingsCount` absent: the failures listed are the count (a channel-level one
    refuses its channel); the others are confirmed when counted imported."""
    from app.core.delivery.trace import readings_verdict
    from app.core.energycap.exporter import api_batches
    from app.core.energycap.models import parse_reading_result
    from app.core.mapping import apply_mapping

    two = pd.concat([day("MPAN1").iloc[:3], day("MPAN2").iloc[:2]], ignore_index=True)
    mapped = apply_mapping(two, MAPPING)
    (batch,) = api_batches(mapped, api="readings")
    failed = [{"channelImportId": "C12", "error": "channel is inactive", "readings": []}]
    answer = parse_reading_result({"importedReadingsCount": 3, "failedReadings": failed}, 200)
    verdict = readings_verdict(batch, answer)
    assert sorted(verdict.refused) == [3, 4] and verdict.unconfirmed == []
    short = parse_reading_result({"importedReadingsCount": 2, "failedReadings": failed}, 200)
    assert readings_verdict(batch, short).unconfirmed == [0, 1, 2]


def test_an_import_task_that_gives_no_count_confirms_nothing() -> None:
    import numpy as np

    from app.core.delivery.trace import import_verdict
    from app.core.energycap.models import parse_task

    rows = np.array([10, 11, 12], dtype="int64")
    silent = parse_task("g1", {"status": "Succeeded", "endDate": "2026-01-01T00:00:00Z"})
    verdict = import_verdict(rows, silent)
    assert verdict.unconfirmed == [10, 11, 12] and not verdict.again
    assert "gave no currentSuccessCount" in (verdict.note or "")
    counted = parse_task("g2", {"status": "Succeeded", "endDate": "x", "currentSuccessCount": 3})
    assert import_verdict(rows, counted).unconfirmed == []


def test_a_failure_naming_nothing_sent_accounts_for_none_of_the_request() -> None:
    from app.core.delivery.trace import readings_verdict
    from app.core.energycap.exporter import api_batches
    from app.core.energycap.models import parse_reading_result
    from app.core.mapping import apply_mapping

    (batch,) = api_batches(apply_mapping(day("MPAN1").iloc[:3], MAPPING), api="readings")
    bogus = [{"channelImportId": "ELSEWHERE", "readings": [{"time": "1999-01-01T00:00:00Z"}]}]
    answer = {"importedReadingsCount": 2, "failedReadingsCount": 1, "failedReadings": bogus}
    verdict = readings_verdict(batch, parse_reading_result(answer, 200))
    assert verdict.refused == {} and verdict.unconfirmed == [0, 1, 2]
    assert "not in the request" in (verdict.note or "")
