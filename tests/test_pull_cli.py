"""End to end: `meterbridge pull verdigris|sftp` and `meterbridge jobs` into the fake EnergyCAP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from app.cli import main
from app.core.journal.store import Journal
from app.core.paths import resolve_paths
from app.core.pulls.jobs import JobStore
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.fakes.memory_keyring import installed, no_keyring
from tests.fakes.sftp_server import start_server
from tests.fakes.verdigris import FakeVerdigris, energy_wh, power_w

KEY = "pull-e2e-key"
END = datetime(2026, 11, 20, 10, tzinfo=UTC)


@pytest.fixture
def vg() -> Iterator[FakeVerdigris]:
    with FakeVerdigris() as server:
        yield server


@pytest.fixture
def ecap(vg: FakeVerdigris) -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as fake:
        for n, circuit in enumerate(vg.circuits):
            channels = [FakeChannel(1000 + n, f"E{circuit}", "Use", "kWh", 3600),
                        FakeChannel(2000 + n, f"P{circuit}", "Demand", "kW", 3600)]  # fmt: skip
            fake.add_meter(n + 1, f"verdigris:circuit:{circuit}", channels, "UTC")
        fake.add_meter(99, "M1", [FakeChannel(99, "M1-kWh", "Use", "kWh", 3600)], "UTC")
        yield fake


@pytest.fixture
def env(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Secrets from the environment only; the machine's own keyring is never touched."""
    monkeypatch.setenv("ECAP_API_KEY", KEY)
    monkeypatch.setenv("VERDIGRIS_CLIENT_SECRET", "s3cret")
    monkeypatch.delenv("SFTP_PASSWORD", raising=False)
    with no_keyring():
        yield home


def vg_args(vg: FakeVerdigris, ecap: FakeEnergyCap, until: datetime) -> list[str]:
    return [
        "pull", "verdigris", "--client-id", vg.client_id, "--circuits", ",".join(vg.circuits),
        "--interval", "1h", "--until", until.isoformat(), "--backfill-days", "30",
        "--auth-url", vg.token_url, "--api-url", vg.url, "--ecap-url", ecap.url,
    ]  # fmt: skip


def expected(circuits: list[str], start: datetime, end: datetime) -> pd.DataFrame:
    rows = []
    for n, circuit in enumerate(circuits):
        moment = start
        while moment < end:
            t = moment + timedelta(hours=1)
            rows.append((1000 + n, t, energy_wh(circuit, moment, 3600) / 1000))
            rows.append((2000 + n, t, power_w(circuit, moment, 3600) / 1000))
            moment = t
    frame = pd.DataFrame(rows, columns=["channel_id", "time", "value"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame.sort_values(["channel_id", "time"]).reset_index(drop=True)


def test_30_days_of_40_circuits_arrive_exactly_with_one_token(
    vg: FakeVerdigris, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for until in (END, END, END + timedelta(hours=2)):  # three runs, fresh objects each
        assert main(vg_args(vg, ecap, until)) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    got = ecap.readings()[["channel_id", "time", "value"]]
    got = got.astype({"channel_id": "int64"}).sort_values(["channel_id", "time"])
    want = expected(vg.circuits, END - timedelta(days=30), END + timedelta(hours=2))
    assert len(want) == 40 * 2 * (30 * 24 + 2)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)
    assert set(vg.statuses) == {200}  # no 422, no 429
    assert len(vg.token_times) == 1
    assert not ecap.failures
    assert "s3cret" not in out and KEY not in out
    assert "read 160, sent 160" in out.splitlines()[-1]  # the third run: two new hours


def test_listing_and_plain_error(vg: FakeVerdigris, env: Path, capsys) -> None:
    base = ["pull", "verdigris", "--client-id", vg.client_id, "--auth-url", vg.token_url,
            "--api-url", vg.url]  # fmt: skip
    assert main([*base, "--list"]) == 0
    out = capsys.readouterr().out
    assert "building 7: Head office (America/Los_Angeles)" in out
    assert "      circuit 100: Circuit 100" in out
    assert main([*base, "--circuits", "100,777", "--since", "2026-11-01"]) == 2
    assert "does not know these ids for /data/v4/energy/circuits: 777" in capsys.readouterr().err
    partly = ["--circuits", "100", "--breakers", "555", "--kinds", "energy", "--interval", "1h",
              "--since", "2026-11-01", "--until", "2026-11-02"]  # fmt: skip
    assert main([*base, *partly]) == 2  # circuits pulled, then the breaker refused
    captured = capsys.readouterr()
    assert "does not know these ids for /data/v4/energy/breakers: 555" in captured.err
    assert "read 24, sent 0, written 24" in captured.out  # what was done before the stop
    assert main([*base, "--circuits", "100", "--interval", "5m", "--save-job", "x"]) == 2
    assert "interval '5m' is not supported; use one of 1m, 15m, 1h" in capsys.readouterr().err
    assert main(["jobs", "list"]) == 0
    assert "no jobs" in capsys.readouterr().out  # nothing invalid was saved


def test_no_secret_is_explained(vg: FakeVerdigris, env: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("VERDIGRIS_CLIENT_SECRET")
    code = main(["pull", "verdigris", "--client-id", "c", "--circuits", "1", "--auth-url",
                 vg.token_url, "--api-url", vg.url, "--since", "2026-11-01"])  # fmt: skip
    assert code == 2
    assert "VERDIGRIS_CLIENT_SECRET" in capsys.readouterr().err


def test_sftp_pin_import_once_and_jobs(
    tmp_path: Path, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(tmp_path)
    try:
        (server.root / "in").mkdir()
        (server.root / "in" / "a.csv").write_text(
            "source_id,time,value\nM1,2026-11-01T01:00:00Z,1.5\nM1,2026-11-01T02:00:00Z,2.5\n"
        )
        base = ["pull", "sftp", "--host", "127.0.0.1", "--port", str(server.port), "--user",
                server.user, "--key", str(server.client_key), "--folder", server.remote("in"),
                "--ecap-url", ecap.url]  # fmt: skip
        assert main(base) == 2
        assert f"--host-key-fingerprint {server.fingerprint}" in capsys.readouterr().err
        pinned = [*base, "--host-key-fingerprint", server.fingerprint]
        assert main([*pinned, "--save-job", "collector", "--every", "30m"]) == 0
        assert "1 new files imported" in capsys.readouterr().out
        assert main(["jobs", "run", "collector", "--ecap-url", ecap.url]) == 0
        assert "0 new files, 1 already imported" in capsys.readouterr().out
        assert sorted(ecap.readings_for(99)["value"]) == [1.5, 2.5]
        # A file no connector reads is named; the poll worked: exit 1, as `jobs run` says.
        (server.root / "in" / "notes.csv").write_text("this is not meter data\n")
        assert main([*pinned, "--job", "collector"]) == 1
        out = capsys.readouterr().out
        assert "error: sftp://" in out and "notes.csv" in out and "no connector recognises" in out
        assert "0 new files imported, 1 unreadable, 1 already imported" in out
        assert main(["jobs", "pause", "collector"]) == 0
        main(["jobs", "list"])
        assert "collector  sftp  every 30m  paused" in capsys.readouterr().out
        server.change_host_key()
        assert main(["jobs", "run", "collector", "--ecap-url", ecap.url]) == 2
        assert "HAS CHANGED" in capsys.readouterr().out
    finally:
        server.stop()


def test_saved_verdigris_job_runs_from_its_bookmarks(
    vg: FakeVerdigris, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["pull", "verdigris", "--client-id", vg.client_id, "--circuits", "100,101",
            "--kinds", "energy", "--interval", "1h", "--backfill-days", "1",
            "--auth-url", vg.token_url, "--api-url", vg.url, "--ecap-url", ecap.url,
            "--save-job", "office", "--every", "1h"]  # fmt: skip
    assert main(args) == 0
    first = len(ecap.readings())
    assert first == 2 * 24
    assert main(["jobs", "run", "office", "--ecap-url", ecap.url]) == 0
    out = capsys.readouterr().out
    assert "office  verdigris  every 1h" in out and ": ok (0 Verdigris requests" in out
    assert len(ecap.readings()) == first
    assert len(vg.token_times) == 1


def test_save_secret_keeps_it_per_client_in_the_keyring(
    vg: FakeVerdigris, env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    import io

    with installed() as backend:
        monkeypatch.delenv("VERDIGRIS_CLIENT_SECRET")
        monkeypatch.setattr("sys.stdin", io.StringIO(vg.client_secret + "\n"))
        base = ["pull", "verdigris", "--client-id", vg.client_id, "--auth-url", vg.token_url,
                "--api-url", vg.url, "--list"]  # fmt: skip
        assert main([*base, "--save-secret"]) == 0
        assert main(base) == 0  # later runs find it in the keyring
        out = capsys.readouterr().out
        assert "saved the client secret of client-1 in the OS keyring" in out
        assert vg.client_secret not in out
        key = ("meterbridge", f"verdigris-client-secret:{vg.client_id}")
        assert backend.store[key] == vg.client_secret
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n"))
    with no_keyring():
        assert main([*base, "--save-secret"]) == 2  # said plainly, never written in plain text
    assert "No secure keyring is available" in capsys.readouterr().err


def test_daily_pull_takes_the_buildings_zone_from_verdigris(
    vg: FakeVerdigris, env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["pull", "verdigris", "--client-id", vg.client_id, "--circuits", "100,101",
            "--kinds", "energy", "--interval", "1d", "--since", "2026-11-01T07:00:00Z",
            "--until", "2026-11-04T08:00:00Z", "--auth-url", vg.token_url,
            "--api-url", vg.url]  # fmt: skip
    assert main(args) == 0  # no EnergyCAP URL: the outbox
    assert "read 6, sent 0, written 6" in capsys.readouterr().out
    rows = {
        tuple(line.split(",")[:3])
        for p in (env / "outbox").glob("*.csv")
        for line in p.read_text().splitlines()[1:]
    }
    la = ZoneInfo("America/Los_Angeles")
    want = set()
    for circuit in ("100", "101"):
        for day in (1, 2, 3):  # Los Angeles days; 1 November has 25 hours
            start = datetime(2026, 11, day, tzinfo=la).astimezone(UTC)
            end = datetime(2026, 11, day + 1, tzinfo=la).astimezone(UTC)  # real time apart
            length = int((end - start).total_seconds())
            value = energy_wh(circuit, start, length) / 1000
            want.add(
                (f"verdigris:circuit:{circuit}", f"{end:%Y-%m-%d %H:%M:%S+00:00}", f"{value:g}")
            )
    assert rows == want


# Pulled readings go through the journal: an EnergyCAP outage loses nothing.
FAST_RETRIES = {
    "version": 1,
    "energycap": {"max_attempts": 2, "backoff_base_s": 0.01, "backoff_cap_s": 0.02},
    "journal": {"outage_patience_s": 0.0},
}


def short_args(vg: FakeVerdigris, ecap: FakeEnergyCap, circuits: list[str]) -> list[str]:
    return [
        "pull", "verdigris", "--client-id", vg.client_id, "--circuits", ",".join(circuits),
        "--interval", "1h", "--until", END.isoformat(), "--backfill-days", "1",
        "--auth-url", vg.token_url, "--api-url", vg.url, "--ecap-url", ecap.url,
    ]  # fmt: skip


def test_outage_keeps_pulled_readings_pending_and_deliver_sends_them(
    vg: FakeVerdigris, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "settings.json").write_text(json.dumps(FAST_RETRIES))
    circuits = vg.circuits[:2]
    want = expected(circuits, END - timedelta(days=1), END)
    ecap.inject("/api/v3/reading", status=503, times=None)  # EnergyCAP is down
    assert main(short_args(vg, ecap, circuits)) == 1
    out = capsys.readouterr().out
    assert "meterbridge deliver" in out
    assert ecap.readings().empty
    journal = Journal(env / "journal.sqlite3")
    assert journal.counts()["pending"] == len(want) == 2 * 2 * 24
    assert [s.source for s in journal.status()] == ["pull:verdigris"]
    journal.close()
    # The bookmarks moved when the readings were journaled: nothing is pulled twice.
    requests_before = len(vg.statuses)
    assert main(short_args(vg, ecap, circuits)) == 1
    assert "read 0" in capsys.readouterr().out
    assert len(vg.statuses) == requests_before
    ecap.clear_faults()
    assert main(["deliver"]) == 0, capsys.readouterr()
    got = ecap.readings()[["channel_id", "time", "value"]]
    got = got.astype({"channel_id": "int64"}).sort_values(["channel_id", "time"])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_dtype=False)


def test_sftp_changed_value_is_held_listed_and_released_with_overwrite(
    tmp_path: Path, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_server(tmp_path)
    try:
        inbox = server.root / "in"
        inbox.mkdir()
        (inbox / "a.csv").write_text(
            "source_id,time,value\nM1,2026-11-01T01:00:00Z,0.215\nM1,2026-11-01T02:00:00Z,2.5\n"
        )
        base = ["pull", "sftp", "--host", "127.0.0.1", "--port", str(server.port), "--user",
                server.user, "--key", str(server.client_key), "--folder", server.remote("in"),
                "--ecap-url", ecap.url, "--host-key-fingerprint", server.fingerprint]  # fmt: skip
        assert main([*base, "--save-job", "collector"]) == 0, capsys.readouterr()
        capsys.readouterr()
        # A new file changes a value already delivered: a scheduled run holds it, exit 1.
        (inbox / "b.csv").write_text("source_id,time,value\nM1,2026-11-01T01:00:00Z,0.999\n")
        assert main(["jobs", "run", "collector", "--ecap-url", ecap.url]) == 1
        out = capsys.readouterr().out
        assert "held back 1" in out and "1 readings held for a decision" in out
        # Through `pull sftp`: counted (the earlier one still waits), named with why, exit 1.
        (inbox / "c.csv").write_text("source_id,time,value\nM1,2026-11-01T02:00:00Z,7.25\n")
        assert main([*base, "--job", "collector"]) == 1
        out = capsys.readouterr().out
        assert "1 new files imported" in out
        assert "read 1, sent 0, held back 2, rejected 0" in out.splitlines()[-1]
        assert (
            "b.csv:2, column 3: M1 2026-11-01T01:00:00+00:00 held: changed after delivery: "
            "EnergyCAP has 0.215, the source now says 0.999" in out
        )
        assert (
            "c.csv:2, column 3: M1 2026-11-01T02:00:00+00:00 held: changed after delivery: "
            "EnergyCAP has 2.5, the source now says 7.25" in out
        )
        assert "--overwrite" in out
        assert sorted(ecap.readings_for(99)["value"]) == [0.215, 2.5]  # nothing replaced
        # --overwrite releases what is held, as `send --overwrite` does.
        assert main([*base, "--job", "collector", "--overwrite"]) == 0, capsys.readouterr()
        assert "held back 0" in capsys.readouterr().out
        assert sorted(ecap.readings_for(99)["value"]) == [0.999, 7.25]
    finally:
        server.stop()


def test_changed_host_key_stderr_has_our_message_only(
    tmp_path: Path, home: Path, ecap: FakeEnergyCap
) -> None:
    import os
    import subprocess
    import sys

    server = start_server(tmp_path)
    try:
        (server.root / "in").mkdir()
        base = [sys.executable, "-m", "app", "pull", "sftp", "--host", "127.0.0.1", "--port",
                str(server.port), "--user", server.user, "--key", str(server.client_key),
                "--folder", server.remote("in")]  # fmt: skip
        env = dict(os.environ, METERBRIDGE_HOME=str(home),
                   PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")  # fmt: skip
        run = lambda *a: subprocess.run(  # noqa: E731
            [*base, *a], capture_output=True, text=True, env=env, timeout=60
        )
        first = run("--host-key-fingerprint", server.fingerprint)
        assert first.returncode == 0, first.stderr
        server.change_host_key()
        changed = run()
        assert changed.returncode == 2
        assert "HAS CHANGED" in changed.stderr
        assert "Traceback" not in changed.stderr and "IncompatiblePeer" not in changed.stderr
        assert "ERROR" not in changed.stderr
    finally:
        server.stop()


def test_verdigris_values_ecap_has_otherwise_are_held_counted_and_released(
    vg: FakeVerdigris, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["pull", "verdigris", "--client-id", vg.client_id, "--circuits", "100",
            "--kinds", "energy", "--interval", "1h", "--since", "2026-11-01T00:00:00Z",
            "--until", "2026-11-04T00:00:00Z", "--auth-url", vg.token_url,
            "--api-url", vg.url, "--ecap-url", ecap.url]  # fmt: skip
    assert main([*base, "--save-job", "a"]) == 0, capsys.readouterr()
    first = ecap.readings_for(1000).set_index("time")["value"]
    assert len(first) == 72
    capsys.readouterr()
    # Another job reads the same hours a bucket earlier: the 71 slots EnergyCAP has differ.
    assert main([*base, "--save-job", "b", "--bucket-label", "end"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "read 71, sent 0, held back 71, rejected 0"
    held = [line for line in out.splitlines() if "held: EnergyCAP already has" in line]
    assert len(held) == 50  # the first 50 named, then a count and where to see them all
    assert "21 more readings held for a decision: see `meterbridge status --held`" in out
    assert ecap.readings_for(1000).set_index("time")["value"].loc[first.index].equals(first)
    # Pulled again, they are still reported as held, until --overwrite releases them.
    again = [*base, "--job", "b", "--bucket-label", "end"]
    assert main(again) == 1
    assert "71 readings are held for a decision" in capsys.readouterr().out
    assert main([*again, "--overwrite"]) == 0
    assert "read 71, sent 71, held back 0" in capsys.readouterr().out
    now = ecap.readings_for(1000).set_index("time")["value"]
    assert len(now) == 72 and now.iloc[-1] == first.iloc[-1]  # the last slot: job a's only
    changed = now.iloc[:-1] != first.iloc[:-1]
    assert changed.all()  # the 71 held values replaced EnergyCAP's


def test_buckets_verdigris_had_no_value_for_are_warned_in_the_output_and_the_job_record(
    vg: FakeVerdigris, ecap: FakeEnergyCap, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = [END - timedelta(hours=h) for h in (30, 29, 28)]  # settled: older than 24 h
    vg.missing = {("100", moment.isoformat()) for moment in gone}
    args = ["pull", "verdigris", "--client-id", vg.client_id, "--circuits", "100,101",
            "--kinds", "energy", "--interval", "1h", "--backfill-days", "2",
            "--until", END.isoformat(), "--auth-url", vg.token_url, "--api-url", vg.url,
            "--ecap-url", ecap.url, "--save-job", "office", "--every", "1h"]  # fmt: skip
    assert main(args) == 0, capsys.readouterr()
    out = capsys.readouterr().out.splitlines()
    first = f"{gone[0] + timedelta(hours=1):%Y-%m-%d %H:%M} UTC"  # the bucket's end
    warning = f"Verdigris: verdigris:circuit:100 (kWh): 3 reading(s) missing from {first}"
    assert f"{warning} (one every 1 h)" in out
    assert "circuit:101" not in "\n".join(out)  # whole: nothing said
    assert out[-1] == f"read {2 * 48 - 3}, sent {2 * 48 - 3}, held back 0, rejected 0"
    # The saved job's runs (up to now) say it too: in `jobs run`, its record and `jobs list`.
    later = END + timedelta(hours=5)
    vg.missing = {("101", later.isoformat())}
    assert main(["jobs", "run", "office", "--ecap-url", ecap.url]) == 0, capsys.readouterr()
    warning = (f"Verdigris: verdigris:circuit:101 (kWh): 1 reading(s) missing from "
               f"{later + timedelta(hours=1):%Y-%m-%d %H:%M} UTC (one every 1 h)")  # fmt: skip
    assert warning in capsys.readouterr().out
    assert main(["jobs", "list"]) == 0 and warning in capsys.readouterr().out
    kept = JobStore(resolve_paths(env).data_dir / "jobs.sqlite3").get("office").last_gaps
    hour = f"{later + timedelta(hours=1):%Y-%m-%d %H:%M}"
    assert kept.lines(UTC) == [
        f"1 reading missing on channel verdigris:circuit:101 (kWh) from {hour} (Verdigris)"
    ]
