"""What `send` says: no false "already delivered", held readings counted, channelId via import."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.reliability.harness import KEY, Setup, add_meters, prepare, send_args

TOTAL = 3 * 96


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        add_meters(server)
        server.add_meter(9, "J2", [FakeChannel(90, "J2-kWh", "Use", "kWh", 1800)], "UTC")
        yield server


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    ready = prepare(tmp_path)
    monkeypatch.setenv("METERBRIDGE_HOME", str(ready.home))
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    monkeypatch.delenv("METERBRIDGE_CRASH_AT", raising=False)
    return ready


def cli(setup: Setup, args: list[str]) -> int:
    return main([*args, "--mapping", str(setup.mapping)])


def test_a_whole_file_error_is_not_called_already_delivered(setup, fake, capsys) -> None:
    page = setup.source.with_name("page.csv")
    page.write_text("<!DOCTYPE html>\n<html><body>Sign in</body></html>\n")
    args = send_args(setup, fake)
    args[1] = str(page)
    assert cli(setup, args) == 2
    out = capsys.readouterr().out
    assert "already delivered" not in out and "nothing new to send" not in out


def test_a_changed_value_held_for_a_decision_is_counted_in_held_back(setup, fake, capsys) -> None:
    assert cli(setup, send_args(setup, fake)) == 0
    setup.source.write_text(setup.source.read_text().replace(",1.005\n", ",9.5\n"))
    capsys.readouterr()
    assert cli(setup, send_args(setup, fake)) == 1
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary == f"read {TOTAL}, sent 0, held back 1, rejected 0"


def test_channel_id_readings_are_held_back_honestly_and_the_others_sent(
    setup, fake, capsys, tmp_path
) -> None:
    body = [
        {"channelId": 5000, "readings": [{"time": "2025-01-01T00:00:00Z", "value": 1.0}]},
        {"meterImportId": "J2", "readings": [{"time": "2025-01-01T00:00:00+00:00", "value": 2.0}]},
    ]
    source = tmp_path / "a9.json"
    source.write_text(json.dumps(body))
    code = main(["send", str(source), "--api", "import", "--ecap-url", fake.url])
    out = capsys.readouterr().out
    assert code == 1
    frame = fake.readings_for(90)
    assert frame["value"].tolist() == [2.0]
    assert "a numeric channelId cannot go in an Import API file" in out
    assert "rejected by EnergyCAP" not in out
    assert out.strip().splitlines()[-1] == "read 2, sent 1, held back 1, rejected 0"
