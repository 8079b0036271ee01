"""SFTP folders against a real SSH server on loopback, delivered to the fake EnergyCAP."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from app.core.connector_catalog import build_registry
from app.core.pulls.sftp.poll import (
    HostKeyError,
    SftpConfig,
    SftpError,
    SftpFolder,
    poll,
)
from app.core.pulls.sftp.state import SftpState
from connectors.base import Connector, ConnectorInfo, ReadingBatch, Source
from connectors.registry import ConnectorRegistry
from tests.core.delivery.journal_submit import submitter
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.fakes.sftp_server import PASSWORD, AsyncSshServer, make_client_key, start_server

KEY = "sftp-test-key"


def csv_file(meter: str, day: int, values: list[float]) -> str:
    rows = [f"{meter},2026-11-{day:02d}T{h:02d}:30:00Z,{v}" for h, v in enumerate(values)]
    return "source_id,time,value\n" + "\n".join(rows) + "\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[AsyncSshServer | object]:
    srv = start_server(tmp_path)
    (srv.root / "incoming").mkdir()
    (srv.root / "other").mkdir()
    yield srv
    srv.stop()


@pytest.fixture
def ecap() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as fake:
        for n, meter in enumerate(("M1", "M2", "M3"), start=1):
            fake.add_meter(
                n, meter, [FakeChannel(10 + n, f"{meter}-kWh", "Use", "kWh", 3600)], "UTC"
            )
        yield fake


def config_for(server, **extra) -> SftpConfig:  # type: ignore[no-untyped-def]
    folders = extra.pop("folders", [SftpFolder(server.remote("incoming"))])
    return SftpConfig(
        host="127.0.0.1",
        port=server.port,
        user=server.user,
        folders=folders,
        key_file=str(server.client_key),
        **extra,
    )


def test_unknown_key_refused_with_fingerprint_then_accepted(server, ecap, tmp_path: Path) -> None:
    (server.root / "incoming" / "a.csv").write_text(csv_file("M1", 1, [1.0, 2.0]))
    state = SftpState(tmp_path / "sftp.sqlite3")
    with pytest.raises(HostKeyError) as info:
        poll(config_for(server), state, build_registry(), submitter(ecap, tmp_path, KEY))
    assert server.fingerprint in str(info.value) and "--host-key-fingerprint" in str(info.value)
    assert ecap.readings().empty
    accepted = config_for(server, host_key_fingerprint=server.fingerprint)
    report = poll(accepted, state, build_registry(), submitter(ecap, tmp_path, KEY))
    assert len(report.imported) == 1
    assert sorted(ecap.readings_for(11)["value"]) == [1.0, 2.0]
    # The pin is remembered: the next run needs no flag.
    assert (
        poll(config_for(server), state, build_registry(), submitter(ecap, tmp_path, KEY)).skipped
        == 1
    )


def test_new_files_imported_once_and_archived(server, ecap, tmp_path: Path) -> None:
    incoming = server.root / "incoming"
    (incoming / "a.csv").write_text(csv_file("M1", 1, [1.0, 2.0, 3.0]))
    (incoming / "b.csv").write_text(csv_file("M2", 1, [4.0]))
    (incoming / "broken.csv").write_text("<html><body>502 Bad Gateway</body></html>")
    (server.root / "other" / "c.csv").write_text(csv_file("M3", 2, [7.0, 8.0]))
    state = SftpState(tmp_path / "sftp.sqlite3")
    folders = [
        SftpFolder(server.remote("incoming"), archive="done"),
        SftpFolder(server.remote("other"), connector="generic", pattern="*.csv"),
    ]
    cfg = config_for(server, folders=folders, host_key_fingerprint=server.fingerprint)
    sub = submitter(ecap, tmp_path, KEY)
    first = poll(cfg, state, build_registry(), sub)
    assert len(first.imported) == 3 and len(first.rejected) == 1
    assert any("broken.csv" in e for e in sub.result.errors)
    assert sorted(p.name for p in (incoming / "done").iterdir()) == ["a.csv", "b.csv"]
    assert (incoming / "broken.csv").exists()  # never deleted, never moved
    assert (server.root / "other" / "c.csv").exists()  # no archive asked: left in place
    before = ecap.readings()
    second = poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY))
    assert (second.imported, second.rejected, second.skipped) == ([], [], 2)
    assert len(ecap.readings()) == len(before) == 6
    assert sorted(ecap.readings_for(13)["value"]) == [7.0, 8.0]


def test_changed_file_is_imported_again_touched_one_is_not(server, ecap, tmp_path: Path) -> None:
    path = server.root / "incoming" / "a.csv"
    path.write_text(csv_file("M1", 1, [1.0]))
    state = SftpState(tmp_path / "sftp.sqlite3")
    cfg = config_for(server, host_key_fingerprint=server.fingerprint)
    poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY))
    stamp = time.time() + 60
    os.utime(path, (stamp, stamp))  # same bytes, new mtime
    assert poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY)).imported == []
    path.write_text(csv_file("M1", 1, [1.0, 5.0]))
    os.utime(path, (stamp + 60, stamp + 60))
    assert len(poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY)).imported) == 1
    assert sorted(ecap.readings_for(11)["value"]) == [1.0, 5.0]


def test_changed_host_key_is_refused_loudly(server, ecap, tmp_path: Path) -> None:
    state = SftpState(tmp_path / "sftp.sqlite3")
    old = server.fingerprint
    poll(
        config_for(server, host_key_fingerprint=old),
        state,
        build_registry(),
        submitter(ecap, tmp_path, KEY),
    )
    server.change_host_key()
    (server.root / "incoming" / "a.csv").write_text(csv_file("M1", 1, [1.0]))
    with pytest.raises(HostKeyError, match="HAS CHANGED") as info:
        poll(config_for(server), state, build_registry(), submitter(ecap, tmp_path, KEY))
    assert old in str(info.value) and server.fingerprint in str(info.value)
    assert ecap.readings().empty


def test_password_login_and_wrong_password(tmp_path: Path, ecap) -> None:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    (root / "in" / "a.csv").write_text(csv_file("M1", 3, [2.5]))
    srv = AsyncSshServer(root, make_client_key(tmp_path))
    try:
        cfg = SftpConfig(
            host="127.0.0.1",
            port=srv.port,
            user=srv.user,
            folders=[SftpFolder("/in")],
            host_key_fingerprint=srv.fingerprint,
        )
        state = SftpState(tmp_path / "s.sqlite3")
        with pytest.raises(SftpError, match="refused the login") as info:
            poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY), password="wrong")
        assert "wrong" not in str(info.value)
        report = poll(
            cfg, state, build_registry(), submitter(ecap, tmp_path, KEY), password=PASSWORD
        )
        assert len(report.imported) == 1
    finally:
        srv.stop()


def test_a_pin_of_another_of_the_servers_keys_is_honoured(tmp_path: Path, ecap) -> None:
    """The pin may be the server's ECDSA key while ed25519 is offered first."""
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    (root / "in" / "a.csv").write_text(csv_file("M1", 3, [2.5]))
    srv = AsyncSshServer(
        root, make_client_key(tmp_path), key_types=("ssh-ed25519", "ecdsa-sha2-nistp256")
    )
    try:
        prints = srv.fingerprints
        cfg = SftpConfig(
            host="127.0.0.1",
            port=srv.port,
            user=srv.user,
            folders=[SftpFolder("/in")],
            key_file=str(srv.client_key),
            host_key_fingerprint=prints["ecdsa-sha2-nistp256"],
        )
        state = SftpState(tmp_path / "s.sqlite3")
        assert len(poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY)).imported) == 1
        srv.change_host_key()  # both keys replaced
        cfg.host_key_fingerprint = ""
        with pytest.raises(HostKeyError, match="HAS CHANGED") as info:
            poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY))
        assert prints["ecdsa-sha2-nistp256"] in str(info.value)
    finally:
        srv.stop()


@pytest.mark.parametrize("style", ["padded", "winscp", "md5", "ssh-keygen"])
def test_fingerprints_as_other_tools_write_them(server, ecap, tmp_path: Path, style: str) -> None:
    import base64
    import hashlib

    blob = server.host_key_blob
    sha = base64.b64encode(hashlib.sha256(blob).digest()).decode()
    md5 = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    written = {
        "padded": f"SHA256:{sha}",  # ends in '='
        "winscp": f"ssh-ed25519 255 {sha.rstrip('=')}",
        "md5": ":".join(md5[i : i + 2] for i in range(0, 32, 2)),
        "ssh-keygen": f"256 SHA256:{sha.rstrip('=')} root@sftp.example (ED25519)",
    }[style]
    (server.root / "incoming" / "a.csv").write_text(csv_file("M1", 1, [1.0]))
    state = SftpState(tmp_path / "s.sqlite3")
    cfg = config_for(server, host_key_fingerprint=written)
    assert len(poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY)).imported) == 1
    assert state.pinned("127.0.0.1", server.port) == server.fingerprint


def test_unreachable_server_and_missing_folder(server, ecap, tmp_path: Path) -> None:
    state = SftpState(tmp_path / "sftp.sqlite3")
    closed = SftpConfig(host="127.0.0.1", port=1, user="x", folders=[], key_file="k")
    with pytest.raises(SftpError, match=r"cannot reach 127\.0\.0\.1:1"):
        poll(closed, state, build_registry(), submitter(ecap, tmp_path, KEY))
    cfg = config_for(
        server, folders=[SftpFolder(server.remote("nope"))], host_key_fingerprint=server.fingerprint
    )
    with pytest.raises(SftpError, match="cannot list the folder"):
        poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY))


class CrashingConnector:
    """A connector with a bug: it fails on any file named crash*.csv."""

    info = ConnectorInfo(id="crashing", name="Crashing", description="raises on crash*.csv")

    def __init__(self, real: Connector) -> None:
        self.real = real

    def sniff(self, head: bytes, name: str) -> float:
        return 1.0

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        if "crash" in source.name:
            raise ZeroDivisionError("division by zero")
        yield from self.real.read(source, options)


def test_connector_bug_costs_one_file_and_young_files_wait(server, ecap, tmp_path: Path) -> None:
    incoming = server.root / "incoming"
    (incoming / "crash.csv").write_text(csv_file("M1", 1, [9.0]))
    (incoming / "good.csv").write_text(csv_file("M2", 1, [4.0]))
    old = time.time() - 600
    for path in incoming.iterdir():
        os.utime(path, (old, old))
    (incoming / "young.csv").write_text(csv_file("M3", 1, [1.0]))  # just uploaded
    registry = ConnectorRegistry([CrashingConnector(build_registry().get("generic"))])
    folder = SftpFolder(server.remote("incoming"), connector="crashing", min_age_s=300)
    cfg = config_for(server, folders=[folder], host_key_fingerprint=server.fingerprint)
    sub = submitter(ecap, tmp_path, KEY)
    report = poll(cfg, SftpState(tmp_path / "s.sqlite3"), registry, sub)
    assert len(report.imported) == 1 and len(report.rejected) == 1 and report.waiting == 1
    assert any("connector failed on this file (ZeroDivisionError" in e for e in sub.result.errors)
    assert sorted(ecap.readings()["value"]) == [4.0]


def test_unreadable_file_is_named_and_the_others_go_on(ecap, tmp_path: Path) -> None:
    # asyncssh's server refuses to open `locked*` files as a server denies an unreadable
    # file: sshd running as root (CI) would read a mode-000 file, so it cannot stand in here.
    root = tmp_path / "server-root"
    (root / "incoming").mkdir(parents=True)
    server = AsyncSshServer(root, make_client_key(tmp_path))
    try:
        _unreadable_file_is_named(server, ecap, tmp_path)
    finally:
        server.stop()


def _unreadable_file_is_named(server: AsyncSshServer, ecap: FakeEnergyCap, tmp_path: Path) -> None:
    incoming = server.root / "incoming"
    (incoming / "locked.csv").write_text(csv_file("M1", 1, [1.0]))
    (incoming / "b.csv").write_text(csv_file("M2", 1, [2.0]))
    cfg = config_for(server, host_key_fingerprint=server.fingerprint)
    sub = submitter(ecap, tmp_path, KEY)
    state = SftpState(tmp_path / "s.sqlite3")
    report = poll(cfg, state, build_registry(), sub)
    assert [Path(n).name for n in report.imported] == ["b.csv"]
    assert any("cannot download" in e and "locked.csv" in e for e in sub.result.errors)
    assert sorted(ecap.readings()["value"]) == [2.0]
    (incoming / "locked.csv").rename(incoming / "unlocked.csv")
    assert len(poll(cfg, state, build_registry(), submitter(ecap, tmp_path, KEY)).imported) == 1


UK_HH_FILES = (
    "banes.csv",
    "imserv.csv",
    "row-per-reading.csv",
    "sheffield.csv",
    "stark-portal.csv",
)


def test_uk_hh_files_are_recognised_and_arrive_exactly(
    server, ecap, tmp_path: Path, hh_samples: Path
) -> None:
    """UK HH exports dropped on the server arrive as the HH connector reads them (the
    generated stand-ins of the five Energy Sparks exports, quirks and all)."""
    registry = build_registry()
    local = []
    for sample in (hh_samples / name for name in UK_HH_FILES):
        (server.root / "incoming" / sample.name).write_bytes(sample.read_bytes())
        source = Source.from_bytes(sample.read_bytes(), sample.name)
        for batch in registry.get("uk-hh").read(source, {}):
            local.extend(zip(batch.readings["time"], batch.readings["value"], strict=True))
    ecap.unknown_meter_policy = "autocreate"  # one kWh channel per meter, but Sheffield's:
    kwh, kvarh = (
        FakeChannel(21, "SHF-kWh", "Use", "kWh", 1800),
        FakeChannel(22, "SHF-kVArh", "ReactiveUse", "kVARh", 1800),
    )
    ecap.add_meter(20, "2336533093112", [kwh, kvarh], "Europe/London")
    sub = submitter(ecap, tmp_path, KEY)
    cfg = config_for(server, host_key_fingerprint=server.fingerprint)
    report = poll(cfg, SftpState(tmp_path / "s.sqlite3"), registry, sub)
    assert len(report.imported) == 5 and not sub.result.errors
    assert {s.connector for s in sub.result.sources} == {"uk-hh"}
    arrived = ecap.readings()
    assert sorted(zip(arrived["time"], arrived["value"], strict=True)) == sorted(local)
    assert len(local) == sub.result.sent == 96 + 48 + 48 + 144 + 144
    assert {"stark-portal.csv", "banes.csv"} <= {Path(n).name for n in report.imported}
    assert len(ecap.readings_for(21)) == 96 and len(ecap.readings_for(22)) == 48  # Sheffield
    again = poll(cfg, SftpState(tmp_path / "s.sqlite3"), registry, submitter(ecap, tmp_path, KEY))
    assert again.imported == [] and len(ecap.readings()) == len(local)


def test_readings_missing_from_a_downloaded_file_are_warned_and_all_others_arrive(
    server, ecap, tmp_path: Path
) -> None:
    lines = csv_file("M1", 3, [float(h) for h in range(12)]).splitlines()
    del lines[4:6]  # 03:30 and 04:30 missing
    (server.root / "incoming" / "gappy.csv").write_text("\n".join(lines) + "\n")
    (server.root / "incoming" / "whole.csv").write_text(csv_file("M2", 3, [1.0, 2.0, 3.0, 4.0]))
    cfg = config_for(server, host_key_fingerprint=server.fingerprint)
    sub = submitter(ecap, tmp_path, KEY)
    report = poll(cfg, SftpState(tmp_path / "sftp.sqlite3"), build_registry(), sub)
    assert len(report.imported) == 2 and sub.result.exit_code == 0
    said = [p.describe() for p in sub.result.problems]
    assert len(said) == 1 and said == report.gaps
    assert said[0].endswith(
        "gappy.csv: M1 (kWh): 2 reading(s) missing from 2026-11-03 03:30 UTC (one every 1 h)"
    )
    assert len(ecap.readings_for(11)) == 10 and len(ecap.readings_for(12)) == 4
