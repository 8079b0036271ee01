"""`meterbridge held`: list, send (overwrite) and discard by id, the same as the GUI's buttons."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.core.journal.held import held_decisions
from app.core.journal.store import Journal
from app.core.paths import resolve_paths
from tests.core.delivery.test_delivery import KEY, at_fake, day, expected
from tests.core.journal.test_journal_held import run
from tests.fakes.energycap import FakeChannel, FakeEnergyCap


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    """EnergyCAP with meter M1 and its half-hourly channel C11 (id 11)."""
    with FakeEnergyCap(api_key=KEY) as server:
        server.add_meter(1, "M1", [FakeChannel(11, "C11", "Use", "kWh", 1800)], "Europe/London")
        yield server


@pytest.fixture
def held_home(home: Path, fake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A home whose journal holds MPAN1's clock-change day changed after delivery (50 held)."""
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    monkeypatch.setenv("TZ", "Europe/London")
    time.tzset()
    journal = Journal(resolve_paths(home).ensure().journal_file)
    journal.accept(day("MPAN1"), source="hh")
    run(journal, fake)
    journal.accept(day("MPAN1", base=7.0), source="hh")
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("source_id,channel_import_id\nMPAN1,C11\n", encoding="utf-8")
    yield journal, mapping
    journal.close()
    monkeypatch.delenv("TZ")
    time.tzset()


def test_list_shows_utc_and_local_time_with_both_values(held_home, capsys) -> None:
    assert main(["held"]) == 0
    out = capsys.readouterr().out.splitlines()
    # 01:00 UTC on 25 Oct 2026 is 01:00 GMT (the second 01:00 of the day); 00:00Z is 01:00 BST.
    first = next(line for line in out if "2026-10-25T00:00:00+00:00" in line)
    assert "(local 2026-10-25T01:00:00+01:00)" in first
    second = next(line for line in out if "2026-10-25T01:00:00+00:00" in line)
    assert "(local 2026-10-25T01:00:00+00:00)" in second
    assert "EnergyCAP has " in first and ", new " in first
    assert len(out) == 51 and out[-1].startswith("send them: `meterbridge held send --all`")


def test_send_by_id_delivers_only_those(held_home, fake, capsys) -> None:
    journal, mapping = held_home
    ids = [str(i) for i in held_decisions(journal)["id"][:2]]
    code = main(["held", "send", "--id", *ids, "--ecap-url", fake.url, "--mapping", str(mapping)])
    assert code == 0  # the two were delivered (48 stay held, listed as such)
    assert "2 held readings queued" in capsys.readouterr().out
    new, old = expected(day("MPAN1", base=7.0)), expected(day("MPAN1"))
    assert at_fake(fake, 11) == new[:2] + old[2:]


def test_discard_all_keeps_energycaps_values(held_home, fake, capsys) -> None:
    journal, _ = held_home
    assert main(["held", "discard", "--all"]) == 0
    assert "50 held readings discarded" in capsys.readouterr().out
    assert held_decisions(journal).empty
    assert at_fake(fake, 11) == expected(day("MPAN1"))


def test_unknown_id_is_a_plain_usage_error(held_home, capsys) -> None:
    assert main(["held", "send", "--id", "424242"]) == 2
    assert "no held reading has id 424242" in capsys.readouterr().err
    assert main(["held", "discard"]) == 2
    assert "needs either --id N [N ...] or --all" in capsys.readouterr().err
