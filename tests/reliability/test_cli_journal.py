"""`meterbridge send/deliver/status/replay` through the journal, in process, against the fake."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from app.cli import main
from tests.reliability.harness import (
    CHANNELS,
    FAST_SETTINGS,
    KEY,
    Setup,
    prepare,
    send_args,
    stored,
    wanted,
)

TOTAL = 3 * 96


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    ready = prepare(tmp_path)
    monkeypatch.setenv("METERBRIDGE_HOME", str(ready.home))
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    monkeypatch.delenv("METERBRIDGE_CRASH_AT", raising=False)
    return ready


def cli(setup: Setup, args: list[str], mapping: Path | None = None) -> int:
    return main([*args, "--mapping", str(mapping or setup.mapping)])


def settings(setup: Setup, **journal: object) -> None:
    document = json.loads(json.dumps(FAST_SETTINGS))
    document["journal"].update(journal)
    (setup.home / "settings.json").write_text(json.dumps({"version": 1, **document}))


def test_send_twice_delivers_once_and_says_so(setup, fake, capsys) -> None:
    assert cli(setup, send_args(setup, fake)) == 0
    assert stored(fake) == wanted(setup)
    posts = len(fake.requests)
    capsys.readouterr()
    assert cli(setup, send_args(setup, fake)) == 0
    out = capsys.readouterr().out
    assert f"{TOTAL} already delivered, nothing new to send" in out
    assert f"journaled: 0 new, {TOTAL} already delivered" in out
    assert len([r for r in fake.requests[posts:] if r.method == "POST"]) == 0


def test_status_shows_counts_per_source_and_receipts(setup, fake, capsys) -> None:
    assert cli(setup, ["status"]) == 0
    assert "(the journal is empty)" in capsys.readouterr().out
    cli(setup, send_args(setup, fake))
    capsys.readouterr()
    assert cli(setup, ["status", "--receipts", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    row = next(line for line in out if line.startswith("generic"))
    assert row.split()[1:6] == ["0", "0", str(TOTAL), "0", "0"]
    assert sum("HTTP 200" in line and "confirmed" in line for line in out) == 2


def test_rejected_readings_are_listed_then_replayed_after_a_mapping_fix(
    setup, fake, capsys, tmp_path
) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("source_id,channel_import_id\nA1,A1-kWh\nA2,A2-kWh\nA3,NOPE\n")
    assert cli(setup, send_args(setup, fake), broken) == 1
    out = capsys.readouterr().out
    assert f"{setup.source}:" in out and "rejected by EnergyCAP" in out and "NOPE" in out
    assert cli(setup, send_args(setup, fake), broken) == 1  # the same file again
    assert "96 readings were rejected by EnergyCAP before" in capsys.readouterr().out
    assert cli(setup, ["status", "--dead-letters"]) == 0
    listed = capsys.readouterr().out
    assert "NOPE" in listed and "A3" in listed
    assert cli(setup, ["replay", "--source", "generic", "--ecap-url", fake.url]) == 0
    assert "96 rejected readings queued again" in capsys.readouterr().out
    assert stored(fake) == wanted(setup)


def test_changed_file_is_held_until_overwrite(setup, fake, capsys) -> None:
    cli(setup, send_args(setup, fake))
    text = setup.source.read_text().replace(",1.005\n", ",9.5\n")
    setup.source.write_text(text)
    capsys.readouterr()
    assert cli(setup, send_args(setup, fake)) == 1
    out = capsys.readouterr().out
    assert "1 readings differ from values already delivered and are held" in out
    assert stored(fake) == wanted(setup)  # EnergyCAP keeps the delivered value
    assert cli(setup, ["status", "--held"]) == 0
    assert "9.5" in capsys.readouterr().out
    assert cli(setup, [*send_args(setup, fake), "--overwrite"]) == 0
    first = stored(fake)[0]
    assert (first[0], first[2]) == (CHANNELS["A1"], 9.5)
    assert stored(fake)[1:] == wanted(setup)[1:]


def test_full_journal_refuses_the_file_with_a_clear_message(setup, fake, capsys) -> None:
    settings(setup, max_bytes=20_000)
    assert cli(setup, send_args(setup, fake)) == 2
    err = capsys.readouterr().err
    assert "is full" in err and "journal.max_bytes" in err
    assert fake.readings().empty


def test_outage_during_send_is_waited_out(setup, fake, capsys) -> None:
    settings(setup, outage_patience_s=30.0)
    fake.outage("/", status=503)  # the key check at the start too
    threading.Timer(1.0, fake.clear_faults).start()
    assert cli(setup, send_args(setup, fake)) == 0
    out = capsys.readouterr().out
    assert "warning: EnergyCAP" in out and f"journaled: {TOTAL} new" in out
    assert stored(fake) == wanted(setup)
    statuses = {r.status for r in fake.requests if r.path == "/api/v3/reading"}
    assert 503 in statuses and 200 in statuses


def test_deliver_without_a_url_is_a_usage_error(setup, capsys) -> None:
    assert cli(setup, ["deliver"]) == 2
    assert "no EnergyCAP URL" in capsys.readouterr().err


def test_each_reading_has_a_receipt_from_journal_to_confirmation(setup, fake, capsys) -> None:
    cli(setup, send_args(setup, fake))
    capsys.readouterr()
    args = ["status", "--reading", "A2", "--from", "2026-03-29T01:00Z", "--to", "2026-03-29T02:00Z"]
    assert cli(setup, args) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if " A2 " in line]
    assert len(lines) == 3
    assert lines[0].startswith("generic A2 kWh 2026-03-29T01:00:00+00:00 2.015: journaled ")
    assert all("→ sent " in line and "→ confirmed " in line for line in lines)


def test_a_naive_time_filter_is_refused(setup, capsys) -> None:
    assert cli(setup, ["status", "--reading", "A2", "--from", "2026-03-29 01:00"]) == 2
    assert "has no UTC offset" in capsys.readouterr().err
