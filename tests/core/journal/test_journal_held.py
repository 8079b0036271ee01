"""Held readings: listed with both values, sent (overwrite) or discarded by id, against the fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.delivery.engine import DeliveryReport, deliver_pending
from app.core.journal.held import (
    CHANGED,
    DIFFERS,
    discard_held_ids,
    held_decisions,
    held_ids,
    release_held_ids,
)
from app.core.journal.store import Journal
from tests.core.delivery.test_delivery import FAST as SETTINGS
from tests.core.delivery.test_delivery import MAPPING, at_fake, client_for, day, expected
from tests.fakes.energycap import FakeChannel, FakeEnergyCap


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    """EnergyCAP with meter M1 and its half-hourly channel C11 (id 11)."""
    with FakeEnergyCap(api_key="test-key") as server:
        server.add_meter(1, "M1", [FakeChannel(11, "C11", "Use", "kWh", 1800)], "Europe/London")
        yield server


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    """An empty journal."""
    opened = Journal(tmp_path / "journal.sqlite3")
    yield opened
    opened.close()


def run(journal: Journal, fake: FakeEnergyCap) -> DeliveryReport:
    """Deliver what is pending (mapping MPAN1 → C11)."""
    return deliver_pending(journal, client_for(fake), SETTINGS, MAPPING)


def _changed(journal: Journal, fake) -> None:
    """MPAN1's clock-change day delivered, then the source sends other values (50 held)."""
    journal.accept(day("MPAN1"), source="hh")
    run(journal, fake)
    assert journal.accept(day("MPAN1", base=7.0), source="hh").changed_held == 50


def test_changed_values_are_listed_with_delivered_and_new_value(journal, fake) -> None:
    _changed(journal, fake)
    held = held_decisions(journal)
    assert len(held) == 50 and set(held["kind"]) == {CHANGED}
    old, new = day("MPAN1"), day("MPAN1", base=7.0)
    assert list(held["time"]) == list(old["time"])  # 50 half-hours, both 01:xx hours kept
    assert list(held["delivered"]) == list(old["value"])
    assert list(held["new"]) == list(new["value"])
    assert str(held["time"].dt.tz) == "UTC"


def test_sending_selected_ids_overwrites_only_those(journal, fake) -> None:
    _changed(journal, fake)
    held = held_decisions(journal)
    chosen = [int(i) for i in held["id"][:3]]
    assert release_held_ids(journal, chosen) == 3
    assert run(journal, fake).confirmed == 3
    want = expected(day("MPAN1"))
    new = expected(day("MPAN1", base=7.0))
    assert at_fake(fake, 11) == new[:3] + want[3:]
    assert len(held_decisions(journal)) == 47


def test_discarding_keeps_what_energycap_has_and_is_not_asked_again(journal, fake) -> None:
    _changed(journal, fake)
    assert discard_held_ids(journal, held_ids(journal)) == 50
    assert held_decisions(journal).empty
    assert run(journal, fake).confirmed == 0
    assert at_fake(fake, 11) == expected(day("MPAN1"))


def test_a_value_another_source_delivered_can_be_kept_or_replaced(journal, fake) -> None:
    journal.accept(day("MPAN1"), source="hh")
    run(journal, fake)
    journal.accept(day("MPAN1", base=3.0), source="other")
    assert run(journal, fake).held == 50
    held = held_decisions(journal, source="other")
    assert set(held["kind"]) == {DIFFERS} and len(held) == 50
    assert np.allclose(held["delivered"], day("MPAN1")["value"])
    assert np.allclose(held["new"], day("MPAN1", base=3.0)["value"])
    assert held_decisions(journal, source="hh").empty
    ids = [int(i) for i in held["id"]]
    assert discard_held_ids(journal, ids[:10]) == 10
    assert release_held_ids(journal, ids[10:]) == 40
    assert run(journal, fake).confirmed == 40
    mixed = expected(day("MPAN1"))[:10] + expected(day("MPAN1", base=3.0))[10:]
    assert at_fake(fake, 11) == mixed
    receipts = journal.reading_receipts("MPAN1")
    kept = receipts[(receipts["source"] == "other") & receipts["reason"].notna()]
    assert len(kept) == 10 and kept["reason"].str.contains("was discarded").all()
    assert held_decisions(journal).empty


def test_unknown_or_repeated_ids_change_nothing(journal, fake) -> None:
    _changed(journal, fake)
    assert release_held_ids(journal, [999_999, 999_999]) == 0
    assert discard_held_ids(journal, []) == 0
    assert len(held_decisions(journal)) == 50


def _release_steps(tmp_path: Path, fake, others: int) -> tuple[int, int]:
    """(SQLite VM steps of `release_held(source)`, readings released) beside `others` days
    of readings of another source."""
    journal = Journal(tmp_path / f"journal-{others}.sqlite3")
    try:
        _changed(journal, fake)
        for n in range(others):
            journal.accept(day(f"OTHER{n}"), source="other")
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0

        journal._conn.set_progress_handler(count, 100)
        released = journal.release_held("hh")
        journal._conn.set_progress_handler(None, 0)
        return steps[0], released
    finally:
        journal.close()


def test_sending_held_values_of_one_source_does_not_walk_every_reading(tmp_path, fake) -> None:
    # `meterbridge send --overwrite` on a journal of millions of readings holds the write
    # lock while it works: its work must follow the held values, not the journal's size.
    few, released_few = _release_steps(tmp_path, fake, others=2)
    many, released_many = _release_steps(tmp_path, fake, others=200)  # 10,000 more readings
    assert released_few == released_many == 50
    assert many < few * 1.5 + 50, (few, many)
