"""Watched local folders: real files, the real file memory (SQLite), the fake EnergyCAP."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.connector_catalog import build_registry
from app.core.journal.store import Journal
from app.core.mapping import MappingTable
from app.core.pulls.folder import FolderConfig, FolderError, poll_folder
from app.core.pulls.sftp.state import FileMemory
from app.core.pulls.submit import Submitter
from connectors.base import Source
from tests.core.delivery.journal_submit import submitter
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

KEY = "folder-test-key"


def csv_file(meter: str, day: int, values: list[float]) -> str:
    rows = [f"{meter},2026-11-{day:02d}T{h:02d}:30:00Z,{v}" for h, v in enumerate(values)]
    return "source_id,time,value\n" + "\n".join(rows) + "\n"


def aged(path: Path, seconds: float = 600) -> Path:
    """Make a file look finished (modified `seconds` ago): no settle wait for it."""
    old = time.time() - seconds
    os.utime(path, (old, old))
    return path


def put(path: Path, content: str | bytes, age: float = 600) -> Path:
    """Write a file that looks finished (modified `age` seconds ago)."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return aged(path, age)


@pytest.fixture
def ecap() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as fake:
        for n, meter in enumerate(("M1", "M2", "M3"), start=1):
            fake.add_meter(
                n, meter, [FakeChannel(10 + n, f"{meter}-kWh", "Use", "kWh", 3600)], "UTC"
            )
        yield fake


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_new_files_once_changed_files_again_touched_files_not(
    inbox: Path, tmp_path: Path, ecap: FakeEnergyCap
) -> None:
    put(inbox / "a.csv", csv_file("M1", 1, [1.0, 2.0]))
    put(inbox / "b.csv", csv_file("M2", 1, [3.0]))
    memory = FileMemory(tmp_path / "folders.sqlite3")
    config = FolderConfig(str(inbox))
    report = poll_folder(config, memory, build_registry(), submitter(ecap, tmp_path, KEY))
    assert [Path(n).name for n in report.imported] == ["a.csv", "b.csv"]
    assert sorted(ecap.readings()["value"]) == [1.0, 2.0, 3.0]
    again = poll_folder(
        config,
        FileMemory(tmp_path / "folders.sqlite3"),
        build_registry(),
        submitter(ecap, tmp_path, KEY),
    )
    assert again.imported == [] and again.skipped == 2
    os.utime(inbox / "a.csv")  # touched: same bytes, new time
    put(inbox / "b.csv", csv_file("M2", 1, [7.0]), 300)  # changed content
    third = poll_folder(
        config, memory, build_registry(), submitter(ecap, tmp_path, KEY), sleep=lambda _s: None
    )
    assert [Path(n).name for n in third.imported] == ["b.csv"] and third.skipped == 1
    # M2 changed after delivery: read again, held for a decision (never sent silently)
    assert sorted(ecap.readings_for(12)["value"]) == [3.0]
    assert Journal(tmp_path / "journal.sqlite3").counts()["held_changes"] == 1
    assert len(ecap.readings_for(11)) == 2
    assert sorted(p.name for p in inbox.iterdir()) == ["a.csv", "b.csv"]  # nothing deleted


def test_imported_files_move_to_the_archive_subfolder_bad_ones_stay(
    inbox: Path, tmp_path: Path, ecap: FakeEnergyCap
) -> None:
    (inbox / "good.csv").write_text(csv_file("M1", 2, [5.0]))
    (inbox / "bad.csv").write_text("this is not meter data\n")
    (inbox / "imported").mkdir()
    (inbox / "imported" / "good.csv").write_text("an older file of the same name")
    (inbox / ".hidden.csv").write_text(csv_file("M3", 2, [9.0]))
    (inbox / "upload.csv.part").write_text(csv_file("M3", 2, [9.0]))
    for path in inbox.iterdir():
        aged(path)
    sub = submitter(ecap, tmp_path, KEY)
    memory = FileMemory(tmp_path / "m.sqlite3")
    report = poll_folder(
        FolderConfig(str(inbox), archive="imported"), memory, build_registry(), sub
    )
    assert report.archived == 1 and [Path(n).name for n in report.rejected] == ["bad.csv"]
    assert any("bad.csv" in e for e in sub.result.errors)
    assert (inbox / "imported" / "good-1.csv").read_text() == csv_file("M1", 2, [5.0])
    assert (inbox / "imported" / "good.csv").read_text() == "an older file of the same name"
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [
        ".hidden.csv",
        "bad.csv",
        "upload.csv.part",
    ]
    assert sorted(ecap.readings()["value"]) == [5.0]
    # The bad file is remembered as rejected and not retried until it changes.
    again = poll_folder(
        FolderConfig(str(inbox), archive="imported"),
        memory,
        build_registry(),
        submitter(ecap, tmp_path, KEY),
    )
    assert again.rejected == [] and again.skipped == 1


def test_a_file_growing_between_two_looks_waits_for_the_next_run(
    inbox: Path, tmp_path: Path, ecap: FakeEnergyCap
) -> None:
    growing = inbox / "growing.csv"
    growing.write_text(csv_file("M1", 3, [1.0]))  # modified just now: looked at twice
    put(inbox / "done.csv", csv_file("M2", 3, [2.0]))
    waits: list[float] = []

    def writer_still_at_it(seconds: float) -> None:
        waits.append(seconds)
        with growing.open("a") as handle:
            handle.write("M1,2026-11-03T05:30:00Z,6.0\n")

    memory = FileMemory(tmp_path / "m.sqlite3")
    report = poll_folder(
        FolderConfig(str(inbox)),
        memory,
        build_registry(),
        submitter(ecap, tmp_path, KEY),
        sleep=writer_still_at_it,
    )
    assert waits == [2.0] and report.waiting == 1
    assert [Path(n).name for n in report.imported] == ["done.csv"]
    assert any("growing.csv is still being written" in w for w in report.warnings)
    assert sorted(ecap.readings()["value"]) == [2.0]
    later = poll_folder(
        FolderConfig(str(inbox)),
        memory,
        build_registry(),
        submitter(ecap, tmp_path, KEY),
        sleep=lambda _s: None,
    )
    assert [Path(n).name for n in later.imported] == ["growing.csv"]
    assert sorted(ecap.readings_for(11)["value"]) == [1.0, 6.0]


def test_a_locked_file_is_left_until_its_writer_lets_go(
    inbox: Path, tmp_path: Path, ecap: FakeEnergyCap
) -> None:
    path = inbox / "locked.csv"
    path.write_text(csv_file("M1", 4, [4.0]))
    aged(path)
    memory = FileMemory(tmp_path / "m.sqlite3")
    with path.open("r+b") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)
        report = poll_folder(
            FolderConfig(str(inbox)), memory, build_registry(), submitter(ecap, tmp_path, KEY)
        )
        assert report.waiting == 1 and report.imported == []
        assert any("locked.csv is locked" in w for w in report.warnings)
    assert ecap.readings().empty
    report = poll_folder(
        FolderConfig(str(inbox)), memory, build_registry(), submitter(ecap, tmp_path, KEY)
    )
    assert len(report.imported) == 1 and sorted(ecap.readings()["value"]) == [4.0]


def test_missing_folder_and_bad_archive_name_are_plain_errors(tmp_path: Path) -> None:
    memory = FileMemory(tmp_path / "m.sqlite3")
    sub = Submitter(MappingTable(), lambda m: pytest.fail("nothing may be delivered"))
    with pytest.raises(FolderError, match="does not exist"):
        poll_folder(FolderConfig(str(tmp_path / "nowhere")), memory, build_registry(), sub)
    with pytest.raises(FolderError, match="subfolder name"):
        poll_folder(
            FolderConfig(str(tmp_path), archive="../elsewhere"), memory, build_registry(), sub
        )


UK_HH_FILES = (
    "banes.csv",
    "imserv.csv",
    "row-per-reading.csv",
    "sheffield.csv",
    "stark-portal.csv",
)


def test_uk_hh_files_with_a_fixed_connector_arrive_exactly(
    inbox: Path, tmp_path: Path, ecap: FakeEnergyCap, hh_samples: Path
) -> None:
    """The generated stand-ins of the five Energy Sparks exports, quirks and all."""
    registry = build_registry()
    local = []
    for sample in (hh_samples / name for name in UK_HH_FILES):
        put(inbox / sample.name, sample.read_bytes())
        source = Source.from_bytes(sample.read_bytes(), sample.name)
        for batch in registry.get("uk-hh").read(source, {"tz": "Europe/London"}):
            local.extend(zip(batch.readings["time"], batch.readings["value"], strict=True))
    ecap.unknown_meter_policy = "autocreate"  # one kWh channel per meter, but Sheffield's:
    kwh, kvarh = (
        FakeChannel(21, "SHF-kWh", "Use", "kWh", 1800),
        FakeChannel(22, "SHF-kVArh", "ReactiveUse", "kVARh", 1800),
    )
    ecap.add_meter(20, "2336533093112", [kwh, kvarh], "Europe/London")
    sub = submitter(ecap, tmp_path, KEY)
    config = FolderConfig(str(inbox), connector="uk-hh", options={"tz": "Europe/London"})
    report = poll_folder(config, FileMemory(tmp_path / "m.sqlite3"), registry, sub)
    assert len(report.imported) == 5 and not sub.result.errors
    assert {s.connector for s in sub.result.sources} == {"uk-hh"}
    arrived = ecap.readings()
    assert sorted(zip(arrived["time"], arrived["value"], strict=True)) == sorted(local)
    assert len(arrived) == 96 + 48 + 48 + 144 + 144  # banes imserv rows sheffield stark
    pairs = set(zip(arrived["time"].astype(str), arrived["value"], strict=True))
    assert ("2024-07-11 23:00:00+00:00", 448) in pairs  # stark-portal: 00:00 label in BST
    assert ("2024-07-15 23:00:00+00:00", 248) in pairs  # banes: second MPAN's [24:00]
    assert ecap.readings_for(21)["value"].tolist() == [*range(101, 149), *range(201, 249)]
    assert ecap.readings_for(22)["value"].tolist() == list(range(501, 549))  # 16th: empty
