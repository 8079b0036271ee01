"""Black-box: `meterbridge send/deliver/replay` (child processes) against a hostile EnergyCAP.

Readings EnergyCAP does not account for are never confirmed and arrive with a
later `deliver` to an honest server; a redirect carries the key nowhere and
confirms nothing; garbage `Retry-After` costs no reading and prints no
traceback; non-finite cells are named and never arrive; nothing in the home
is readable by other users.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.recorder import Recorder
from tests.reliability.harness import (
    KEY,
    Setup,
    journal_report,
    meterbridge,
    prepare,
    send_args,
    stored,
    wanted,
)

TOTAL = 3 * 96


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return prepare(tmp_path)


def deliver_args(fake: FakeEnergyCap) -> list[str]:
    return ["deliver", "--ecap-url", fake.url]


@pytest.mark.parametrize("mode", ["vague_counts", "fewer_imported", "html", "truncated"])
def test_unaccounted_readings_are_not_confirmed_and_arrive_later(setup, fake, mode) -> None:
    fake.hostile(mode, "/api/v3/reading")
    first = meterbridge(setup, send_args(setup, fake))
    assert first.returncode == 1, first.stdout + first.stderr
    assert f"{TOTAL} readings not confirmed" in first.stdout
    assert "Traceback" not in first.stderr
    _, counts, confirmed = journal_report(setup)
    assert counts["pending"] == TOTAL and counts["confirmed"] == 0 and confirmed == 0
    fake.clear_hostile()
    second = meterbridge(setup, deliver_args(fake))
    assert second.returncode == 0, second.stdout + second.stderr
    assert stored(fake) == wanted(setup)


def test_a_redirect_carries_the_key_nowhere_and_confirms_nothing(setup, fake) -> None:
    with Recorder() as elsewhere:
        fake.hostile("redirect", value=f"{elsewhere.url}/api/v3/reading", status=307)
        done = meterbridge(setup, send_args(setup, fake))
        assert elsewhere.seen == [] and KEY not in " ".join(elsewhere.header_values())
    assert done.returncode == 2, done.stdout + done.stderr
    assert "redirect" in done.stderr and KEY not in done.stdout + done.stderr
    assert journal_report(setup)[1]["confirmed"] == 0
    fake.clear_hostile()
    assert meterbridge(setup, deliver_args(fake)).returncode == 0
    assert stored(fake) == wanted(setup)


@pytest.mark.parametrize("garbage", ["nan", "-5", "inf", "1e400", "soon"])
def test_garbage_retry_after_costs_no_reading_and_prints_no_traceback(setup, fake, garbage) -> None:
    fake.hostile("retry_after", "/api/v3/reading", times=2, value=garbage)
    done = meterbridge(setup, send_args(setup, fake))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert stored(fake) == wanted(setup)


def test_an_answer_that_stalls_is_retried_and_nothing_is_lost(setup, fake) -> None:
    fake.hostile("stall", "/api/v3/reading", times=1, stall_s=8.0)
    done = meterbridge(setup, send_args(setup, fake))  # timeout_s 5 in the test settings
    assert done.returncode == 0, done.stdout + done.stderr
    assert stored(fake) == wanted(setup)


def test_non_finite_cells_are_named_never_arrive_and_a_clean_file_arrives_whole(
    setup, fake
) -> None:
    lines = setup.source.read_text().splitlines(keepends=True)
    bad = {2: "inf", 3: "NaN", 4: "1e400", 5: "-Infinity"}
    dirty = [
        line.rsplit(",", 1)[0] + f",{bad[n]}\n" if n in bad else line
        for n, line in enumerate(lines, start=1)
    ]
    setup.source.write_text("".join(dirty))
    done = meterbridge(setup, send_args(setup, fake))
    assert done.returncode == 1, done.stdout + done.stderr
    for n, text in bad.items():
        assert f"meters.csv:{n}, column kwh, value {text!r}" in done.stdout
    assert len(stored(fake)) == TOTAL - 4
    assert all(v == v and abs(v) != float("inf") for _, _, v in stored(fake))
    setup.source.write_text("".join(lines))  # the clean file: every reading arrives
    again = meterbridge(setup, send_args(setup, fake))
    assert again.returncode == 0, again.stdout + again.stderr
    assert stored(fake) == wanted(setup)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions only")
def test_nothing_in_the_home_is_readable_by_other_users(setup, fake) -> None:
    os.chmod(setup.home, 0o755)  # a home made world-readable before: repaired too
    (setup.home / "settings.json").chmod(0o644)
    assert meterbridge(setup, send_args(setup, fake)).returncode == 0
    assert meterbridge(setup, ["convert", str(setup.source), "--connector", "generic",
                               "--tz", "UTC", "--interval", "1800"]).returncode == 0  # fmt: skip
    found = [setup.home, *setup.home.rglob("*")]
    assert any(p.name == "journal.sqlite3" for p in found)
    assert any(p.parent.name == "outbox" for p in found)
    loose = [
        f"{p.relative_to(setup.home)} {stat.filemode(p.stat().st_mode)}"
        for p in found
        if stat.S_IMODE(p.stat().st_mode) & 0o077
    ]
    assert loose == []


def test_a_reading_that_cannot_be_sent_stops_nothing_and_replay_sends_it_after_the_fix(
    setup, fake
) -> None:
    fixed = setup.mapping.read_text()
    rows = fixed.splitlines()
    overflow = [
        rows[0] + ",multiplier",
        *(r + (",1e308" if r.startswith("A3") else ",") for r in rows[1:]),
    ]
    setup.mapping.write_text("\n".join(overflow) + "\n")  # A3's values x 1e308 overflow to inf
    done = meterbridge(setup, send_args(setup, fake))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "96 readings not sent" in done.stdout and "not a finite number" in done.stdout
    assert "Traceback" not in done.stderr
    a3 = {row for row in wanted(setup) if row[0] == 102}
    assert set(stored(fake)) == set(wanted(setup)) - a3  # the others all arrived
    setup.mapping.write_text(fixed)
    replayed = meterbridge(setup, ["replay", "--ecap-url", fake.url])
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert stored(fake) == wanted(setup)
