"""End to end: `meterbridge send/convert` with the generic connector against the fake EnergyCAP."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from app.cli import main
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

KEY = "e2e-key-5f3a"
NY_CHANNEL, NY_ESA, UK_CHANNEL = 21, 22, 31

# America/New_York falls back on 3 Nov 2024: 01:00-01:59 EDT, then again in EST.
US_FALL_BACK = """meter,timestamp,kwh
NY1,2024-11-03 00:30,1.0
NY1,2024-11-03 01:00,1.5
NY1,2024-11-03 01:30,2.0
NY1,2024-11-03 01:00,2.5
NY1,2024-11-03 01:30,3.0
NY1,2024-11-03 02:00,12abc
NY1,2024-11-03 02:30,4.0
"""
US_EXPECTED = {
    "2024-11-03T04:30Z": 1.0,
    "2024-11-03T05:00Z": 1.5,
    "2024-11-03T05:30Z": 2.0,
    "2024-11-03T06:00Z": 2.5,
    "2024-11-03T06:30Z": 3.0,
    "2024-11-03T07:30Z": 4.0,
}

# Europe/London falls back on 27 Oct 2024: 01:00-01:59 BST, then again in GMT.
UK_FALL_BACK = """id;time;value
MPAN1;27/10/2024 00:30;0,5
MPAN1;27/10/2024 01:00;1,5
MPAN1;27/10/2024 01:30;2,5
MPAN1;27/10/2024 01:00;3,5
MPAN1;27/10/2024 01:30;4,5
MPAN1;27/10/2024 02:00;5,5
"""
UK_EXPECTED = {
    "2024-10-26T23:30Z": 0.5,
    "2024-10-27T00:00Z": 1.5,
    "2024-10-27T00:30Z": 2.5,
    "2024-10-27T01:00Z": 3.5,
    "2024-10-27T01:30Z": 4.5,
    "2024-10-27T02:00Z": 5.5,
}


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        server.add_meter(
            1, "NY1", [FakeChannel(NY_CHANNEL, "NY1-kWh", "Use", "kWh", 1800)], "America/New_York"
        )
        server.add_esa_channel(NY_ESA, "NY1-ESA", "NY1", "Use", "kWh", 30)
        server.add_meter(
            2, "MPAN1", [FakeChannel(UK_CHANNEL, "UK-kWh", "Use", "kWh", 1800)], "Europe/London"
        )
        yield server


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "us.csv").write_text(US_FALL_BACK)
    (folder / "uk.csv").write_text(UK_FALL_BACK)
    return folder


def stored(fake: FakeEnergyCap, channel: int) -> dict[str, float]:
    frame = fake.readings_for(channel)
    return {
        t.strftime("%Y-%m-%dT%H:%MZ"): v for t, v in zip(frame["time"], frame["value"], strict=True)
    }


def us_args(files: Path, fake: FakeEnergyCap, *extra: str) -> list[str]:
    return [
        "send",
        str(files / "us.csv"),
        "--connector",
        "generic",
        "--tz",
        "America/New_York",
        "--interval",
        "1800",
        "--ecap-url",
        fake.url,
        *extra,
    ]


@pytest.mark.parametrize(
    ("api", "channel"), [("readings", NY_CHANNEL), ("esa", NY_ESA), ("import", NY_CHANNEL)]
)
def test_us_fall_back_day_arrives_at_exact_instants_and_the_bad_row_is_named(
    api: str,
    channel: int,
    files: Path,
    fake: FakeEnergyCap,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    code = main(us_args(files, fake, "--api", api))
    out = capsys.readouterr().out
    assert stored(fake, channel) == US_EXPECTED
    assert code == 1
    assert f"{files / 'us.csv'}:7, column kwh, value '12abc'" in out
    assert out.strip().splitlines()[-1] == "read 6, sent 6, held back 1, rejected 0"
    assert not fake.failures
    assert KEY not in out


def test_uk_fall_back_day_with_decimal_comma(
    files: Path,
    fake: FakeEnergyCap,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    args = ["send", str(files / "uk.csv"), "--tz", "Europe/London", "--delimiter", ";"]
    args += ["--decimal", ",", "--time-format", "%d/%m/%Y %H:%M", "--interval", "1800"]
    code = main([*args, "--ecap-url", fake.url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert stored(fake, UK_CHANNEL) == UK_EXPECTED
    assert "connector generic" in out
    assert out.strip().splitlines()[-1] == "read 6, sent 6, held back 0, rejected 0"


def test_start_label_and_mapping_multiplier(
    files: Path,
    fake: FakeEnergyCap,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    mapping = files / "map.csv"
    mapping.write_text("source_id,channel_import_id,multiplier\nNY1,NY1-kWh,1000\n")
    code = main(us_args(files, fake, "--mapping", str(mapping), "--time-label", "start"))
    capsys.readouterr()
    assert code == 1
    expected = {
        (pd.Timestamp(t) - pd.Timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%MZ"): v * 1000
        for t, v in US_EXPECTED.items()
    }
    assert stored(fake, NY_CHANNEL) == expected


def test_refused_readings_are_listed_with_origin_and_exit_1(
    files: Path,
    fake: FakeEnergyCap,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    fake.reject_values_above = 3.5
    code = main(us_args(files, fake))
    out = capsys.readouterr().out
    assert code == 1
    assert f"{files / 'us.csv'}:8:3: rejected by EnergyCAP" in out
    assert out.strip().splitlines()[-1] == "read 6, sent 5, held back 1, rejected 1"


def test_wrong_key_exits_2_with_a_clear_message(
    files: Path,
    fake: FakeEnergyCap,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ECAP_API_KEY", "not-the-key")
    code = main(us_args(files, fake))
    captured = capsys.readouterr()
    assert code == 2
    assert "API key or the host is wrong" in captured.err
    assert "not-the-key" not in captured.err + captured.out
    assert fake.readings().empty


def test_no_key_anywhere_exits_2(
    files: Path, fake: FakeEnergyCap, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(us_args(files, fake)) == 2
    assert "ECAP_API_KEY" in capsys.readouterr().err


def test_no_url_writes_the_outbox(
    files: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["send", str(files / "us.csv"), "--tz", "America/New_York", "--interval", "1800"]
    code = main([*args, "--connector", "generic"])
    out = capsys.readouterr().out
    assert code == 1
    csvs = sorted((home / "outbox").glob("*.csv"))
    profiles = sorted((home / "outbox").glob("*.profile.json"))
    assert len(csvs) == 1 and len(profiles) == 1
    assert profiles[0].name == csvs[0].name.replace(".csv", ".profile.json")
    back = pd.read_csv(csvs[0])
    times = pd.to_datetime(back["Timestamp"], utc=True).dt.strftime("%Y-%m-%dT%H:%MZ")
    assert dict(zip(times, back["Value"], strict=True)) == US_EXPECTED
    assert out.strip().splitlines()[-1] == "read 6, sent 0, written 6, held back 1, rejected 0"


def test_convert_to_a_folder_with_the_console_script(files: Path, home: Path) -> None:
    script = Path(sys.executable).parent / "meterbridge"
    out_dir = files / "out"
    command = [str(script), "convert", str(files / "uk.csv"), "-o", str(out_dir)]
    command += ["--tz", "Europe/London", "--delimiter", ";", "--decimal", ","]
    command += ["--time-format", "%d/%m/%Y %H:%M", "--interval", "1800"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        done.stdout.strip().splitlines()[-1] == "read 6, sent 0, written 6, held back 0, rejected 0"
    )
    assert done.stderr == ""
    (csv_file,) = out_dir.glob("*.csv")
    back = pd.read_csv(csv_file)
    times = pd.to_datetime(back["Timestamp"], utc=True).dt.strftime("%Y-%m-%dT%H:%MZ")
    assert dict(zip(times, back["Value"], strict=True)) == UK_EXPECTED


def test_unreadable_source_exits_2_and_names_it(
    files: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["convert", str(files / "missing.csv"), "-o", str(files / "o")])
    out = capsys.readouterr().out
    assert code == 2
    assert "missing.csv" in out


def test_a_folder_given_as_source_is_named_not_a_crash(
    files: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["convert", str(files), str(files / "uk.csv"), "--connector", "generic"]
    code = main([*args, "--delimiter", ";", "--decimal", ",", "--tz", "Europe/London"])
    out = capsys.readouterr().out
    assert code == 2
    assert f"{files}: cannot be read" in out
    assert out.strip().splitlines()[-1] == "read 6, sent 0, written 6, held back 0, rejected 0"


def test_a_bad_mapping_file_is_a_usage_error_naming_line_and_column(
    files: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = files / "map.csv"
    mapping.write_text("source_id,channel_id,multiplier\nNY1,21,ten\n")
    code = main(["convert", str(files / "us.csv"), "--mapping", str(mapping), "-o", str(files)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{mapping}:2: column multiplier: 'ten' is not a number" in err


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, as a console window does."""

    def isatty(self) -> bool:
        return True


def test_a_progress_bar_only_on_a_terminal(
    files: Path, home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["convert", str(files / "uk.csv"), "--delimiter", ";", "--decimal", ","]
    args += ["--tz", "Europe/London", "-o", str(files / "o")]
    assert main(args) == 0
    assert capsys.readouterr().err == ""
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(args) == 0
    assert "readings" in terminal.getvalue() and "1/1 files" in terminal.getvalue()
