"""Sources saved, edited and removed through the real stores: sources.json, jobs.sqlite3,
devices.json, the keyring (in memory), the journal; folder jobs run into the fake EnergyCAP."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.core.journal.store import Journal
from app.core.paths import AppPaths, resolve_paths
from app.core.pulls.folder import FolderConfig
from app.core.pulls.jobs import JobStore
from app.core.pulls.runner import scheduler_for
from app.core.secrets import SecretStore
from app.core.settings import load_settings, save_settings
from app.core.sources.devices import DeviceRegistry
from app.core.sources.records import SourceSetup, find_source
from app.core.sources.removal import JOURNAL_KEPT, plan_removal, remove_source
from app.core.sources.setup import save_source
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.fakes.memory_keyring import MemoryKeyring, installed

KEY = "edit-test-key"


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    with installed() as backend:
        yield backend


@pytest.fixture
def paths(home: Path) -> AppPaths:
    return resolve_paths(home).ensure()


@pytest.fixture
def ecap(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as fake:
        fake.add_meter(1, "M1", [FakeChannel(11, "M1-kWh", "Use", "kWh", 3600)], "UTC")
        fake.add_meter(2, "M2", [FakeChannel(12, "M2-kWh", "Use", "kWh", 3600)], "UTC")
        settings = load_settings(paths.settings_file)
        settings.energycap.url = fake.url
        save_settings(settings, paths.settings_file)
        monkeypatch.setenv("ECAP_API_KEY", KEY)
        yield fake


def put(path: Path, text: str) -> None:
    path.write_text(text)
    old = time.time() - 600  # a finished file: no second look needed
    os.utime(path, (old, old))


def generic_setup(folder: Path, name: str = "BMS export", **extra: object) -> SourceSetup:
    settings = {"folder": str(folder), "id_column": "meter", "time_column": "at",
                "value_column": "kwh", "quantity": "kWh", "time_format": "",
                "tz": "America/New_York", "delimiter": ";", **extra}  # fmt: skip
    return SourceSetup(kind="generic", name=name, connector="generic", settings=settings)


def test_a_folder_source_becomes_a_job_that_delivers_new_files_once(
    paths: AppPaths, ecap: FakeEnergyCap, tmp_path: Path, ring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # Naive local times either side of New York's autumn clock change (EDT, then EST).
    put(inbox / "a.csv", "meter;at;kwh\nM1;2026-11-01 00:30;1.5\nM1;2026-11-01 03:30;2.5\n")
    save_source(generic_setup(inbox, archive="done"), paths, SecretStore())
    job = JobStore(paths.data_dir / "jobs.sqlite3").get("BMS export")
    config = FolderConfig.from_dict(job.config)
    assert job.kind == "folder" and config.connector == "generic" and config.archive == "done"
    assert config.options["tz"] == "America/New_York" and config.options["delimiter"] == ";"
    scheduler = scheduler_for(paths, load_settings(paths.settings_file))
    outcome = scheduler.run_now("BMS export")
    assert outcome.ok and not outcome.partial, outcome.message
    assert "1 new files" in outcome.message and "1 archived" in outcome.message
    sent = ecap.readings_for(11)
    assert sorted(sent["value"]) == [1.5, 2.5]
    assert sorted(t.isoformat() for t in sent["time"]) == [
        "2026-11-01T04:30:00+00:00", "2026-11-01T08:30:00+00:00"
    ]  # fmt: skip
    journal = Journal(paths.journal_file)
    assert {s.source for s in journal.status()} == {"pull:BMS export"}
    journal.close()
    assert (inbox / "done" / "a.csv").exists() and not (inbox / "a.csv").exists()
    # Headless: `meterbridge jobs run NAME` runs the folder job; a bad file is named.
    put(inbox / "b.csv", "meter;at;kwh\nM2;2026-11-02 10:00;4.0\n")
    put(inbox / "broken.csv", "nothing useful here\n")
    assert main(["jobs", "run", "BMS export"]) == 1
    out = capsys.readouterr().out
    assert "BMS export  folder" in out and "broken.csv" in out and "partial" in out
    assert sorted(ecap.readings_for(12)["value"]) == [4.0]
    assert main(["jobs", "run", "BMS export"]) == 0  # nothing new, the bad file not retried
    assert len(ecap.readings()) == 3


def test_a_missing_folder_fails_the_run_in_plain_words(
    paths: AppPaths, ecap: FakeEnergyCap, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    save_source(generic_setup(inbox), paths, SecretStore())
    inbox.rmdir()
    outcome = scheduler_for(paths, load_settings(paths.settings_file)).run_now("BMS export")
    assert not outcome.ok and f"the folder {inbox} does not exist" in outcome.message


def test_uk_hh_folder_keeps_the_chosen_layout_and_time_basis(
    paths: AppPaths, tmp_path: Path
) -> None:
    settings = {"folder": str(tmp_path), "tz": "UTC", "layout": "imserv"}
    setup = SourceSetup(kind="uk-hh", name="IMServ", connector="uk-hh", settings=settings)
    save_source(setup, paths, SecretStore())
    config = FolderConfig.from_dict(JobStore(paths.data_dir / "jobs.sqlite3").get("IMServ").config)
    assert (config.connector, config.options) == ("uk-hh", {"tz": "UTC", "layout": "imserv"})


def sftp_setup(name: str, user: str = "collector") -> SourceSetup:
    settings = {"host": "sftp.example", "port": 22, "user": user, "folders": ["/out"],
                "tz": "Europe/London", "host_key_fingerprint": "SHA256:" + "A" * 43}  # fmt: skip
    return SourceSetup(kind="uk-hh-sftp", name=name, connector="uk-hh", settings=settings)


def test_editing_renames_the_job_keeps_pause_and_moves_a_blank_password(
    paths: AppPaths, ring: MemoryKeyring
) -> None:
    secrets = SecretStore()
    save_source(sftp_setup("Collector"), paths, secrets, {"password": "pa55"})
    store = JobStore(paths.data_dir / "jobs.sqlite3")
    store.set_paused("Collector", True)
    edited = sftp_setup("Collector", user="reader")
    save_source(edited, paths, secrets, {"password": ""}, replaces="Collector")
    assert store.get("Collector").paused and store.get("Collector").config["user"] == "reader"
    assert secrets.get("sftp-password:reader@sftp.example") == "pa55"
    assert secrets.get("sftp-password:collector@sftp.example") is None  # moved, not copied
    save_source(sftp_setup("Collector 2", user="reader"), paths, secrets, replaces="Collector")
    assert [j.name for j in store.list()] == ["Collector 2"]
    assert find_source("Collector", paths) is None and find_source("Collector 2", paths)
    assert secrets.get("sftp-password:reader@sftp.example") == "pa55"


def test_a_new_source_may_not_take_an_existing_name(paths: AppPaths, tmp_path: Path) -> None:
    save_source(generic_setup(tmp_path), paths, SecretStore())
    with pytest.raises(ValueError, match="exists already"):
        save_source(generic_setup(tmp_path), paths, SecretStore())


def test_editing_a_device_keeps_its_token_and_changes_its_zone(
    paths: AppPaths, ring: MemoryKeyring
) -> None:
    registry = DeviceRegistry(paths.config_dir / "devices.json", None, SecretStore())
    token = registry.add("plant-room", "episensor", "Europe/London")
    setup = SourceSetup(kind="episensor", name="plant-room", connector="episensor",
                        settings={"tz": "Europe/London"})  # fmt: skip
    save_source(setup, paths, SecretStore())
    setup.settings["tz"] = "America/Chicago"
    save_source(setup, paths, SecretStore(), replaces="plant-room")
    again = DeviceRegistry(paths.config_dir / "devices.json", None, SecretStore())
    assert again.owner_of(token) == "plant-room"
    assert again.get("plant-room").tz == "America/Chicago"


def test_removal_says_what_goes_and_keeps_the_journal_and_shared_secrets(
    paths: AppPaths, ring: MemoryKeyring
) -> None:
    secrets = SecretStore()
    save_source(sftp_setup("North"), paths, secrets, {"password": "pa55"})
    save_source(sftp_setup("South"), paths, secrets)  # the same login
    journal = Journal(paths.journal_file)
    from connectors.base import make_readings

    journal.accept(make_readings(source_id="M1", time=["2026-11-01T00:30Z"], value=[1.0],
                                 interval_s=1800), source="pull:North")  # fmt: skip
    journal.close()
    plan = plan_removal("pull:North", paths, secrets)
    assert plan.name == "North" and plan.job == "North" and plan.secrets == []
    assert any("sources.json" in line for line in plan.lines())
    assert any("scheduled job “North”" in line for line in plan.lines())
    remove_source("North", paths, secrets)
    assert secrets.get("sftp-password:collector@sftp.example") == "pa55"  # South uses it
    gone = remove_source("South", paths, secrets)
    assert gone.secrets == ["sftp-password:collector@sftp.example"]
    assert secrets.get("sftp-password:collector@sftp.example") is None
    assert JobStore(paths.data_dir / "jobs.sqlite3").list() == []
    assert find_source("South", paths) is None
    journal = Journal(paths.journal_file)
    assert [s.source for s in journal.status()] == ["pull:North"]  # readings kept
    journal.close()
    assert "stay in the journal" in JOURNAL_KEPT


def test_removing_a_device_or_a_cli_job_without_a_record(
    paths: AppPaths, ring: MemoryKeyring, tmp_path: Path
) -> None:
    secrets = SecretStore()
    registry = DeviceRegistry(paths.config_dir / "devices.json", None, secrets)
    token = registry.add("meter-7", "acurev2100", "UTC")
    plan = plan_removal("push:meter-7", paths, secrets)
    assert plan.device == "meter-7"
    assert any("“device-token:meter-7” in the OS keyring" in line and "stop working" in line
               for line in plan.lines())  # fmt: skip
    remove_source("push:meter-7", paths, secrets)
    again = DeviceRegistry(paths.config_dir / "devices.json", None, secrets)
    assert again.owner_of(token) is None and secrets.get("device-token:meter-7") is None
    store = JobStore(paths.data_dir / "jobs.sqlite3")
    from datetime import UTC, datetime, timedelta

    store.save("cli-vg", "verdigris", {"client_id": "c-9"}, timedelta(hours=1), datetime.now(UTC))
    secrets.set("verdigris-client-secret:c-9", "s")
    assert remove_source("cli-vg", paths, secrets).secrets == ["verdigris-client-secret:c-9"]
    assert store.list() == [] and secrets.get("verdigris-client-secret:c-9") is None
    with pytest.raises(KeyError, match="no configured source"):
        remove_source("file", paths, secrets)


def test_folder_sources_saved_before_folders_were_watched_get_their_job(
    paths: AppPaths, tmp_path: Path
) -> None:
    from app.core.sources.records import sources_file, write_sources
    from app.core.sources.setup import restore_folder_jobs

    old = generic_setup(tmp_path, name="Old folder")
    write_sources(sources_file(paths.config_dir), [old, sftp_setup("Remote")])
    assert restore_folder_jobs(paths) == ["Old folder"]
    assert JobStore(paths.data_dir / "jobs.sqlite3").get("Old folder").kind == "folder"
    assert restore_folder_jobs(paths) == []  # once


def test_a_file_still_being_written_is_named_in_the_job_status(
    paths: AppPaths, ecap: FakeEnergyCap, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    save_source(generic_setup(inbox), paths, SecretStore())
    put(inbox / "big.csv", "meter;at;kwh\nM1;2026-11-03 00:30;1.0\n")
    with (inbox / "big.csv").open("rb") as writer:
        import fcntl

        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)
        outcome = scheduler_for(paths, load_settings(paths.settings_file)).run_now("BMS export")
    assert outcome.ok and not outcome.partial
    assert "1 left for the next run" in outcome.message and "big.csv is locked" in outcome.message
    assert ecap.readings().empty
    again = scheduler_for(paths, load_settings(paths.settings_file)).run_now("BMS export")
    assert "1 new files" in again.message and len(ecap.readings()) == 1
