"""The journal against bad input: non-finite values, unbindable requests, old files, loose modes."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
from pathlib import Path

import pandas as pd
import pytest

from app.core.journal.queue import JournalChanged
from app.core.journal.store import AcceptBatch, Journal
from app.core.paths import resolve_paths
from connectors.base import make_readings
from connectors.push.common import PointColumns

T0 = 1_780_000_000_000_000_000


def half_hours(source_id: str, values: list[float]) -> pd.DataFrame:
    times = pd.date_range("2026-01-01", periods=len(values), freq="30min", tz="UTC")
    origins = [f"f.csv:{n}:3" for n in range(2, 2 + len(values))]
    return make_readings(
        source_id=source_id, time=times, value=values, interval_s=1800, origin=origins
    )


def points(values: list[object], sensor: str = "S1", time_ns: int = T0) -> PointColumns:
    columns = PointColumns()
    for i, value in enumerate(values):
        columns.add(sensor, "kWh", time_ns + i * 60 * 10**9, value, f"push:{i}")  # type: ignore[arg-type]
    return columns


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


def test_nothing_non_finite_is_ever_journaled(journal: Journal, caplog) -> None:
    frame = half_hours("M1", [1.0, float("inf"), float("nan"), 2.0, float("-inf")])
    result = journal.accept(frame, source="file")
    assert (result.new, result.not_finite, result.total) == (2, 3, 5)
    assert "3 refused: not a finite number" in result.describe()
    pushed = journal.accept(points([5.0, float("nan"), 6.0]), source="push:dev")
    assert (pushed.new, pushed.not_finite) == (2, 1)
    with sqlite3.connect(journal.path) as conn:
        stored = [v for (v,) in conn.execute("SELECT value FROM readings ORDER BY id")]
    assert stored == [1.0, 2.0, 5.0, 6.0]
    assert "f.csv:3, column 3, value 'inf'" in caplog.text  # named, not silently dropped


def test_a_request_sqlite_cannot_store_fails_alone_in_its_group(journal: Journal) -> None:
    good = AcceptBatch(points([1.0, 2.0], "A"), "dev-a")
    too_far = AcceptBatch(points([3.0], "B", time_ns=2**70), "dev-b")  # not a 64-bit integer
    other = AcceptBatch(half_hours("C", [4.0]), "dev-c")
    results = journal.accept_many([good, too_far, other])
    assert isinstance(results[1], (OverflowError, sqlite3.Error))
    assert [getattr(r, "new", None) for r in (results[0], results[2])] == [2, 1]
    assert sorted(journal.pending(10)["source_id"]) == ["A", "A", "C"]


def test_the_version_is_an_integer_changed_by_every_change(journal: Journal) -> None:
    journal.accept(half_hours("M1", [1.0, 2.0]), source="f")
    before = journal.pending(10)
    versions = dict(zip(before["id"].tolist(), before["version"].tolist(), strict=True))
    assert all(isinstance(v, int) for v in versions.values())
    journal.accept(half_hours("M1", [1.0, 9.0]), source="f")  # within the same clock tick
    with pytest.raises(JournalChanged):
        journal.start_batch("readings", before["id"].tolist(), versions)
    after = journal.pending(10)
    assert after["version"].tolist() == [versions[before["id"][0]], versions[before["id"][1]] + 1]


def test_an_older_journal_gets_the_version_column(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    Journal(path).accept(half_hours("M1", [1.0]), source="f")
    with sqlite3.connect(path) as conn:  # as schema 2 left it
        conn.execute("ALTER TABLE readings DROP COLUMN version")
        conn.execute("PRAGMA user_version = 2")
    reopened = Journal(path)
    assert reopened.pending(10)["version"].tolist() == [0]
    assert reopened.integrity_check() == "ok"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions only")
def test_the_home_and_everything_in_it_become_user_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True)
    os.chmod(home, 0o755)
    (home / "settings.json").write_text("{}")
    (home / "settings.json").chmod(0o644)
    (home / "captures").mkdir(mode=0o755)
    (home / "captures" / "body.json").write_text("{}")
    (home / "captures" / "body.json").chmod(0o666)
    paths = resolve_paths(home).ensure()
    Journal(paths.journal_file).accept(half_hours("M1", [1.0]), source="f")
    modes = {
        str(p.relative_to(home)): stat.S_IMODE(p.stat().st_mode) for p in [home, *home.rglob("*")]
    }
    assert modes["."] == 0o700 and modes["captures"] == 0o700 and modes["logs"] == 0o700
    assert modes["settings.json"] == modes["captures/body.json"] == 0o600
    assert modes["journal.sqlite3"] == 0o600
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes
