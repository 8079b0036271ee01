"""End to end: `meterbridge pull folder` (real files, real journal) into the fake EnergyCAP."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.core.connector_catalog import build_registry
from app.core.journal.store import Journal
from app.core.pulls.jobs import JobStore
from connectors.base import Source
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.fakes.fixtures import API_KEY, energycap  # noqa: F401
from tests.fakes.memory_keyring import no_keyring


def put(path: Path, content: str | bytes, age: float = 600) -> Path:
    """Write a file that looks finished (modified `age` seconds ago)."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    old = time.time() - age
    os.utime(path, (old, old))
    return path


def hours(meter: str, values: list[float], day: int = 1) -> str:
    rows = [f"{meter},2026-11-{day:02d}T{h + 1:02d}:00:00Z,{v}" for h, v in enumerate(values)]
    return "source_id,time,value\n" + "\n".join(rows) + "\n"


@pytest.fixture
def ecap(energycap: FakeEnergyCap) -> FakeEnergyCap:  # noqa: F811
    for n, meter in enumerate(("M1", "M2"), start=1):
        channel = FakeChannel(10 + n, f"{meter}-kWh", "Use", "kWh", 3600)
        energycap.add_meter(n, meter, [channel], "UTC")
    return energycap


@pytest.fixture
def env(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Secrets from the environment only; the machine's own keyring is never touched."""
    monkeypatch.setenv("ECAP_API_KEY", API_KEY)
    with no_keyring():
        yield home


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def pull(inbox: Path, ecap: FakeEnergyCap, *more: str) -> list[str]:
    return ["pull", "folder", "--folder", str(inbox), "--ecap-url", ecap.url, *more]


def test_new_files_once_then_nothing_then_a_changed_file_again(
    inbox: Path, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(inbox / "a.csv", hours("M1", [1.5, 2.5]))
    put(inbox / "b.csv", hours("M2", [3.0]))
    assert main(pull(inbox, ecap)) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "2 new files imported, 0 unreadable, 0 already imported" in out
    assert out.splitlines()[-1] == "read 3, sent 3, held back 0, rejected 0"
    assert sorted(ecap.readings_for(11)["value"]) == [1.5, 2.5]
    journal = Journal(env / "journal.sqlite3")
    assert [s.source for s in journal.status()] == ["pull:folder"]
    journal.close()
    # The same files again: nothing read, nothing sent.
    assert main(pull(inbox, ecap)) == 0
    out = capsys.readouterr().out
    assert "0 new files imported, 0 unreadable, 2 already imported" in out
    assert out.splitlines()[-1].startswith("read 0, sent 0")
    # b.csv gets a second hour: imported again; only the new hour goes to EnergyCAP.
    put(inbox / "b.csv", hours("M2", [3.0, 4.0]), age=300)
    assert main(pull(inbox, ecap)) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "1 new files imported, 0 unreadable, 1 already imported" in out
    assert sorted(ecap.readings_for(12)["value"]) == [3.0, 4.0]
    assert len(ecap.readings_for(11)) == 2
    assert sorted(p.name for p in inbox.iterdir()) == ["a.csv", "b.csv"]  # nothing moved


def test_a_bad_file_is_named_with_exit_1_and_the_others_go(
    inbox: Path, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(inbox / "good.csv", hours("M1", [5.0]))
    put(inbox / "notes.csv", "this is not meter data\n")
    assert main(pull(inbox, ecap)) == 1
    out = capsys.readouterr().out
    assert f"error: {inbox / 'notes.csv'}" in out and "no connector recognises" in out
    assert "1 new files imported, 1 unreadable" in out
    assert sorted(ecap.readings_for(11)["value"]) == [5.0]
    # Remembered as unreadable: not read again until it changes.
    assert main(pull(inbox, ecap)) == 0
    assert "0 new files imported, 0 unreadable, 2 already imported" in capsys.readouterr().out


def test_a_missing_folder_is_exit_2_in_plain_words_and_no_job_is_saved(
    tmp_path: Path, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = tmp_path / "share" / "hh"
    assert main(pull(nowhere, ecap, "--save-job", "hh")) == 2
    err = capsys.readouterr().err
    assert f"meterbridge: error: the folder {nowhere} does not exist" in err
    assert "Traceback" not in err
    assert main(["jobs", "list"]) == 0
    assert "no jobs" in capsys.readouterr().out
    assert main(["pull", "folder"]) == 2
    assert "pull folder needs --folder PATH (or --job NAME)" in capsys.readouterr().err
    assert main(pull(tmp_path, ecap, "--archive", "../elsewhere")) == 2
    assert "give a subfolder name such as 'imported'" in capsys.readouterr().err
    assert main(pull(tmp_path, ecap, "--connector", "uk-hh", "--layout", "nope")) == 2
    assert "unknown layout 'nope'; known layouts:" in capsys.readouterr().err
    assert ecap.readings().empty


def test_save_job_then_jobs_run_list_pause(
    inbox: Path,
    ecap: FakeEnergyCap,
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    put(inbox / "a.csv", hours("M1", [1.0]))
    monkeypatch.chdir(inbox.parent)  # a relative folder is saved as an absolute one
    args = ["pull", "folder", "--folder", "inbox", "--archive", "done", "--pattern", "*.csv",
            "--ecap-url", ecap.url, "--save-job", "meters", "--every", "30m"]  # fmt: skip
    assert main(args) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "saved job 'meters' (folder, every 30m)" in out and "1 archived" in out
    job = JobStore(env / "jobs.sqlite3").get("meters")
    assert job.kind == "folder"
    assert job.config["path"] == str(inbox.resolve()) and job.config["archive"] == "done"
    monkeypatch.chdir(env)
    put(inbox / "b.csv", hours("M2", [2.0]))
    put(inbox / "skip.txt", hours("M2", [9.0]))  # not matched by the saved pattern
    assert main(["jobs", "run", "meters", "--ecap-url", ecap.url]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "meters  folder  every 30m" in out and ": ok (1 new files, 0 already imported" in out
    assert sorted(p.name for p in (inbox / "done").iterdir()) == ["a.csv", "b.csv"]
    assert sorted(ecap.readings()["value"]) == [1.0, 2.0]
    journal = Journal(env / "journal.sqlite3")
    assert {s.source for s in journal.status()} == {"pull:meters"}
    journal.close()
    assert main(["jobs", "pause", "meters"]) == 0
    main(["jobs", "list"])
    assert "meters  folder  every 30m  paused" in capsys.readouterr().out
    # --job starts from the saved configuration.
    put(inbox / "c.csv", hours("M1", [3.0], day=2))
    assert main(["pull", "folder", "--job", "meters", "--ecap-url", ecap.url]) == 0
    assert "1 new files imported" in capsys.readouterr().out
    assert (inbox / "done" / "c.csv").exists()
    assert main(["pull", "folder", "--job", "nothing"]) == 2
    assert "nothing" in capsys.readouterr().err
    # A job of another kind is never replaced by accident.
    JobStore(env / "jobs.sqlite3").save("site", "sftp", {"host": "h"}, job.interval, job.next_run)
    assert main(["pull", "folder", "--job", "meters", "--save-job", "site"]) == 2
    assert "a sftp job is called 'site'" in capsys.readouterr().err
    assert JobStore(env / "jobs.sqlite3").get("site").kind == "sftp"


def test_uk_hh_with_a_fixed_layout_from_several_folders_arrives_exactly(
    tmp_path: Path,
    energycap: FakeEnergyCap,  # noqa: F811
    env: Path,
    hh_samples: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    energycap.unknown_meter_policy = "autocreate"  # one kWh channel per meter, but Sheffield's:
    kwh, kvarh = (
        FakeChannel(21, "SHF-kWh", "Use", "kWh", 1800),
        FakeChannel(22, "SHF-kVArh", "ReactiveUse", "kVARh", 1800),
    )
    energycap.add_meter(20, "2336533093112", [kwh, kvarh], "Europe/London")
    sample = hh_samples / "sheffield.csv"
    others = [hh_samples / "banes.csv", hh_samples / "row-per-reading.csv"]
    first, second = tmp_path / "site-a", tmp_path / "site-b"
    first.mkdir(), second.mkdir()
    put(first / sample.name, sample.read_bytes())
    for path in others:
        put(second / path.name, path.read_bytes())
    local = []
    registry = build_registry()
    for path, options in [(sample, {"layout": "sheffield"}), *((p, {}) for p in others)]:
        source = Source.from_bytes(path.read_bytes(), path.name)
        for batch in registry.get("uk-hh").read(source, {"tz": "Europe/London", **options}):
            local.extend(zip(batch.readings["time"], batch.readings["value"], strict=True))
    args = ["pull", "folder", "--folder", str(first), "--connector", "uk-hh", "--layout",
            "sheffield", "--tz", "Europe/London", "--ecap-url", energycap.url]  # fmt: skip
    assert main(args) == 0, capsys.readouterr()
    assert "1 new files imported" in capsys.readouterr().out
    both = ["pull", "folder", "--folder", str(first), "--folder", str(second),
            "--connector", "uk-hh", "--ecap-url", energycap.url]  # fmt: skip
    assert main(both) == 0, capsys.readouterr()
    assert "2 new files imported, 0 unreadable, 1 already imported" in capsys.readouterr().out
    arrived = energycap.readings()
    assert sorted(zip(arrived["time"], arrived["value"], strict=True)) == sorted(local)
    assert len(local) == 144 + 96 + 48  # sheffield (kWh and kVArh), banes, row-per-reading
    assert energycap.readings_for(22)["value"].tolist() == list(range(501, 549))
    # A layout that does not fit names the file and costs only that file.
    put(second / "late.csv", others[0].read_bytes(), age=300)
    wrong = [*both, "--layout", "sheffield"]
    assert main(wrong) == 1
    out = capsys.readouterr().out
    assert "late.csv" in out and "no layout 'sheffield' of UK half-hourly data fits" in out


def test_without_an_energycap_url_the_outbox_gets_the_files_and_young_files_wait(
    inbox: Path, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(inbox / "old.csv", hours("M1", [1.0, 2.0]))
    put(inbox / "new.csv", hours("M2", [3.0]), age=1)
    assert main(["pull", "folder", "--folder", str(inbox), "--min-age", "120"]) == 0
    out = capsys.readouterr().out
    assert "1 new files imported" in out and "1 left for the next poll" in out
    assert out.splitlines()[-1] == "read 2, sent 0, written 2, held back 0, rejected 0"
    assert len(list((env / "outbox").glob("*.csv"))) == 1
    assert main(["pull", "folder", "--folder", str(inbox)]) == 0  # no minimum age now
    assert "1 new files imported, 0 unreadable, 1 already imported" in capsys.readouterr().out


def naive_hours(meter: str, times: list[str]) -> str:
    rows = [f"{meter},{t},{n + 1}.0" for n, t in enumerate(times)]
    return "source_id,time,value\n" + "\n".join(rows) + "\n"


def test_naive_times_on_fall_back_days_in_london_and_new_york(
    tmp_path: Path,
    ecap: FakeEnergyCap,
    env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    london, new_york = tmp_path / "london", tmp_path / "new-york"
    london.mkdir(), new_york.mkdir()
    # Hour-ending naive times; the repeated 01:00 is placed by file order (BST, then GMT).
    uk_times = ["2026-10-25 01:00", "2026-10-25 01:00", "2026-10-25 02:00", "2026-10-25 03:00"]
    put(london / "uk.csv", naive_hours("M1", uk_times))
    assert main(pull(london, ecap, "--tz", "Europe/London", "--interval", "3600")) == 0, (
        capsys.readouterr()
    )
    uk = ecap.readings_for(11)
    assert [f"{t:%Y-%m-%dT%H:%M}Z" for t in uk["time"]] == [
        "2026-10-25T00:00Z", "2026-10-25T01:00Z", "2026-10-25T02:00Z", "2026-10-25T03:00Z"
    ]  # fmt: skip
    assert list(uk["value"]) == [1.0, 2.0, 3.0, 4.0]
    args = pull(new_york, ecap, "--tz", "America/New_York", "--interval", "3600",
                "--save-job", "ny")  # fmt: skip
    put(new_york / "a.csv", naive_hours("M2", ["2026-10-31 23:00", "2026-11-01 00:00"]))
    assert main(args) == 0, capsys.readouterr()
    # The saved job keeps the zone: the next file, with the repeated hour, runs right.
    ny_times = ["2026-11-01 01:00", "2026-11-01 01:00", "2026-11-01 02:00"]
    put(new_york / "b.csv", naive_hours("M2", ny_times))
    assert main(["jobs", "run", "ny", "--ecap-url", ecap.url]) == 0, capsys.readouterr()
    us = ecap.readings_for(12)
    assert [f"{t:%Y-%m-%dT%H:%M}Z" for t in us["time"]] == [
        "2026-11-01T03:00Z", "2026-11-01T04:00Z", "2026-11-01T05:00Z", "2026-11-01T06:00Z",
        "2026-11-01T07:00Z",
    ]  # fmt: skip
    assert list(us["value"]) == [1.0, 2.0, 1.0, 2.0, 3.0]


def test_readings_missing_from_a_pulled_file_are_warned_in_the_output_and_the_job_record(
    inbox: Path, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = hours("M1", [float(v) for v in range(1, 13)]).splitlines()
    del text[5:8]  # 05:00, 06:00 and 07:00 missing from M1's hours
    put(inbox / "a.csv", "\n".join(text) + "\n")
    put(inbox / "b.csv", hours("M2", [1.0, 2.0, 3.0, 4.0, 5.0]))  # whole: no warning
    assert main(pull(inbox, ecap, "--save-job", "meters")) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    warning = f"{inbox / 'a.csv'}: M1 (kWh): 3 reading(s) missing from 2026-11-01 05:00 UTC"
    assert f"{warning} (one every 1 h)" in out.splitlines()
    assert "M2" not in out and out.splitlines()[-1] == "read 14, sent 14, held back 0, rejected 0"
    # The saved job's runs say it too: in `jobs run` and in the run record `jobs list` shows.
    put(inbox / "a.csv", "\n".join([*text, "M1,2026-11-01T20:00:00Z,20"]) + "\n", age=300)
    assert main(["jobs", "run", "meters", "--ecap-url", ecap.url]) == 0, capsys.readouterr()
    assert f"1 new files, 1 already imported; {warning} (one every 1 h) (and 1 more " in (
        capsys.readouterr().out
    )
    assert main(["jobs", "list"]) == 0
    assert "M1 (kWh): 3 reading(s) missing from 2026-11-01 05:00 UTC" in capsys.readouterr().out
