"""Outbox: streamed import files + profiles, unique sortable names, never overwritten."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from app.core.energycap.outbox import ImportFileWriter
from app.core.mapping import MappingTable, apply_mapping
from connectors.base import make_readings

NOW = datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC)


def batch(start: str, n: int, source: str = "M1", quantity: str = "kWh") -> pd.DataFrame:
    times = pd.date_range(start, periods=n, freq="30min", tz="UTC")
    frame = make_readings(
        source_id=source, quantity=quantity, time=times, value=range(n), interval_s=1800
    )
    return apply_mapping(frame, MappingTable())


def read_back(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"ImportId": str, "Estimated": str, "Note": str})


def test_batches_stream_into_one_file_per_group_with_profiles(tmp_path: Path) -> None:
    writer = ImportFileWriter(tmp_path, clock=lambda: NOW)
    assert writer.write(batch("2024-01-01T00:30Z", 4)) == 4
    assert writer.write(batch("2024-01-01T02:30Z", 4)) == 4
    assert writer.write(batch("2024-01-01T00:30Z", 2, quantity="kW")) == 2
    outputs = writer.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "meterbridge-20261126T080000Z-001.csv",
        "meterbridge-20261126T080000Z-001.profile.json",
        "meterbridge-20261126T080000Z-002.csv",
        "meterbridge-20261126T080000Z-002.profile.json",
    ]
    energy = read_back(outputs[0].csv_path)
    assert len(energy) == 8 == outputs[0].count
    expected = pd.date_range("2024-01-01T00:30Z", periods=8, freq="30min", tz="UTC")
    assert list(pd.to_datetime(energy["Timestamp"], utc=True)) == list(expected)
    assert energy["Value"].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    profile = json.loads(outputs[1].profile_path.read_text())
    assert profile["dataMapping"][0]["unitCode"] == "kW"
    assert profile["profileCode"] == "meterbridge-20261126T080000Z-002"
    assert profile == outputs[1].profile


def test_never_overwrites_and_names_sort_by_time(tmp_path: Path) -> None:
    first = ImportFileWriter(tmp_path, clock=lambda: NOW)
    first.write(batch("2024-01-01T00:30Z", 2))
    old = first.close()[0].csv_path.read_bytes()
    again = ImportFileWriter(tmp_path, clock=lambda: NOW)
    again.write(batch("2024-02-01T00:30Z", 3, source="M2"))
    (second,) = again.close()
    assert second.csv_path.name == "meterbridge-20261126T080000Z-002.csv"
    assert (tmp_path / "meterbridge-20261126T080000Z-001.csv").read_bytes() == old
    later = ImportFileWriter(tmp_path, clock=lambda: NOW.replace(hour=9))
    later.write(batch("2024-03-01T00:30Z", 1))
    (third,) = later.close()
    csvs = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert csvs[-1] == third.csv_path.name


def test_start_label_and_nothing_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECAP_API_KEY", "s3cret-key")
    writer = ImportFileWriter(tmp_path, label="start", clock=lambda: NOW)
    writer.write(batch("2024-01-01T00:30Z", 1))
    (out,) = writer.close()
    assert read_back(out.csv_path)["Timestamp"].tolist() == ["2024-01-01 00:00:00+00:00"]
    for path in tmp_path.iterdir():
        assert "s3cret" not in path.read_text()


def test_empty_run_writes_nothing(tmp_path: Path) -> None:
    writer = ImportFileWriter(tmp_path / "outbox", clock=lambda: NOW)
    writer.write(batch("2024-01-01T00:30Z", 0))
    assert writer.close() == []
    assert not (tmp_path / "outbox").exists()
