"""Import API delivery: what a task says is all that is confirmed (never more than it counted)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.delivery.trace import import_verdict
from app.core.energycap.models import TaskResult, decode_error_output
from app.core.journal.store import Journal
from app.core.mapping import parse_mapping_csv
from tests.core.delivery.test_delivery import FAST, KEY, at_fake, day, expected, run
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

IMPORT = dataclasses.replace(FAST, api="import")
UNKNOWN = parse_mapping_csv("source_id,meter_import_id\nMPAN9,NO-SUCH-METER\n", "mapping.csv")


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        for n in (1, 2):
            channel = FakeChannel(10 + n, f"C1{n}", "Use", "kWh", 1800)
            server.add_meter(n, f"M{n}", [channel], "Europe/London")
        yield server


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


def test_error_output_decodes_json_strings_arrays_and_objects() -> None:
    text = "Line 2: meter unknown\r\nLine 3: meter unknown\r\n"
    assert decode_error_output('"Line 2: meter unknown\\r\\nLine 3: meter unknown\\r\\n"') == (
        "Line 2: meter unknown\nLine 3: meter unknown"
    )
    assert decode_error_output(text) == text  # text/plain is kept as it is
    listed = '[{"line": 4, "message": "bad value"}, "Line 5: bad time"]'
    assert decode_error_output(listed) == "Line 4: bad value\nLine 5: bad time"
    assert decode_error_output('{"errors": [{"row": 7, "error": "x"}]}') == "Line 7: x"
    assert decode_error_output("[not json") == "[not json"


@pytest.mark.parametrize("as_json", [False, True])
def test_a_failed_task_confirms_nothing_and_dead_letters_every_named_row(
    journal, fake, as_json: bool
) -> None:
    fake.imports.error_output_json = as_json
    journal.accept(day("MPAN9"), source="hh")  # 50 readings of a meter EnergyCAP does not know
    report = run(journal, fake, settings=IMPORT, mapping=UNKNOWN)
    assert [t["status"] for t in fake.tasks()] == ["Failed"]
    assert (report.confirmed, report.rejected, report.pending_left) == (0, 50, 0)
    reasons = journal.dead_letters()["reason"].tolist()
    assert len(reasons) == 50 and all("Line" in r and "NO-SUCH-METER" in r for r in reasons)
    assert len(set(reasons)) == 50  # each row its own line, not the first line for all
    assert journal.counts()["confirmed"] == 0


def test_values_refused_in_a_json_error_output_are_traced_row_by_row(journal, fake) -> None:
    fake.imports.error_output_json = True
    fake.reject_values_above = 6.0
    readings = day("MPAN2", tz="America/New_York", start="2026-11-01")
    journal.accept(readings, source="hh")
    report = run(journal, fake, settings=IMPORT)
    too_big = readings["value"] > 6.0
    assert (report.confirmed, report.rejected) == (int((~too_big).sum()), int(too_big.sum()))
    assert at_fake(fake, 12) == expected(readings.loc[~too_big])


def test_a_task_failed_as_a_whole_dead_letters_its_file_with_the_task_message(
    journal, fake
) -> None:
    fake.imports.fail_whole = "The file could not be parsed: unexpected header"
    journal.accept(day("MPAN1"), source="hh")
    report = run(journal, fake, settings=IMPORT)
    assert (report.confirmed, report.rejected) == (0, 50)
    assert fake.readings().empty
    reasons = set(journal.dead_letters()["reason"])
    assert len(reasons) == 1 and "unexpected header" in reasons.pop()


def test_never_more_confirmed_than_the_task_counted(journal, fake) -> None:
    fake.imports.success_count = 3  # EnergyCAP says Succeeded but counts 3 of 50
    journal.accept(day("MPAN1"), source="hh")
    report = run(journal, fake, settings=IMPORT)
    assert (report.confirmed, report.rejected, report.unconfirmed) == (0, 0, 50)
    assert report.pending_left == 50 and not report.complete
    assert report.requests == 1  # not sent over and over in the same run
    receipt = journal.receipts()[0]
    assert receipt["confirmed"] == 0 and "counted 3" in receipt["message"]
    fake.imports.success_count = None
    assert run(journal, fake, settings=IMPORT).confirmed == 50  # the next run resends them


def test_a_failed_task_sends_the_rows_it_did_not_name_again() -> None:
    rows = np.array([10, 11, 12], dtype=np.int64)
    task = TaskResult("g", "Failed", "1 row failed", 0, True, False, "Line 3: bad value")
    verdict = import_verdict(rows, task)
    assert set(verdict.refused) == {11} and "Line 3: bad value" in verdict.refused[11]
    assert verdict.unconfirmed == [10, 12] and verdict.again
    partial = dataclasses.replace(task, status="Succeeded with errors", success_count=2)
    assert import_verdict(rows, partial).unconfirmed == []  # 2 counted, 2 confirmed
    short = dataclasses.replace(partial, success_count=1)
    assert import_verdict(rows, short).unconfirmed == [10, 12]
    cancelled = dataclasses.replace(task, status="Cancelled", success_count=None)
    assert import_verdict(rows, cancelled).unconfirmed == [10, 12]  # not counted: not confirmed


def test_readings_mapped_by_channel_id_are_not_sent_and_the_others_are(journal, fake) -> None:
    mapping = parse_mapping_csv(
        "source_id,channel_id,channel_import_id\nMPAN1,11,\nMPAN2,,C12\n", "mapping.csv"
    )
    journal.accept(day("MPAN1"), source="hh")
    journal.accept(day("MPAN2", base=2.0), source="hh")
    report = run(journal, fake, settings=IMPORT, mapping=mapping)
    assert (report.confirmed, report.rejected, report.not_sent) == (50, 0, 50)
    assert at_fake(fake, 12) == expected(day("MPAN2", base=2.0))
    assert fake.readings_for(11).empty
    reasons = set(journal.dead_letters()["reason"])
    assert reasons == {
        "source 'MPAN1' is mapped to channelId 11: a numeric channelId cannot go in an Import "
        "API file; map it by channel_import_id or use --api readings (not sent)"
    }
