"""Missing readings in row-per-reading files: named by `meterbridge convert` and by the preview.

Generic CSV files in Europe/London and America/Chicago wall time over their
clock changes (no false gap), a Readings-API JSON file; each gap is one line
naming the channel, the first missing time (UTC) and how many are missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from app.cli import main
from app.core.connector_catalog import build_registry
from app.core.mapping import MappingTable
from app.core.preview.checks import Flag
from app.core.preview.data import PreviewRequest, load_preview
from connectors.base import Source


def _generic_csv(path: Path, zone: str, day: str, missing: dict[str, slice]) -> Path:
    """Two meters of half-hours in `zone` wall time around `day`, `missing` rows removed."""
    start = pd.Timestamp(day, tz=zone) - pd.Timedelta(days=1)
    local = pd.date_range(start, start + pd.Timedelta(days=3), freq="30min", inclusive="left")
    rows = []
    for meter in ("M1", "M2"):
        times = local.delete(range(len(local))[missing[meter]]) if meter in missing else local
        rows += [(meter, t.strftime("%Y-%m-%d %H:%M"), 1.25) for t in times]
    pd.DataFrame(rows, columns=["meter", "time", "kwh"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("zone", "day", "first_missing"),
    [
        ("Europe/London", "2026-03-29", "2026-03-28 23:00 UTC"),  # 23:00 GMT, the night before
        ("America/Chicago", "2026-11-01", "2026-11-01 04:00 UTC"),  # 23:00 CDT
    ],
)
def test_convert_names_each_gap_and_no_clock_change(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    zone: str,
    day: str,
    first_missing: str,
) -> None:
    path = _generic_csv(tmp_path / "readings.csv", zone, day, {"M1": slice(46, 49)})
    code = main(["convert", str(path), "--tz", zone, "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out.splitlines()
    assert code == 0  # a warning: everything read was written
    gaps = [line for line in out if "missing" in line]
    assert gaps == [
        f"{path}: M1 (kWh): 3 reading(s) missing from {first_missing} (one every 30 min)"
    ]


def test_convert_names_a_gap_in_a_readings_api_json_file(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    times = pd.date_range("2026-10-25T00:00Z", periods=12, freq="15min").delete([5, 6])
    body = [{"channelImportId": "C7", "observationTypeCode": "Demand", "unitCode": "kW",
             "readings": [{"time": t.isoformat(), "value": 3.5} for t in times]}]  # fmt: skip
    path = tmp_path / "readings.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert main(["convert", str(path), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "C7 (kW): 2 reading(s) missing from 2026-10-25 01:15 UTC (one every 15 min)" in out


def test_the_preview_lists_each_gap_as_a_warning_on_the_row_after_it(tmp_path: Path) -> None:
    path = _generic_csv(
        tmp_path / "readings.csv", "Europe/London", "2026-10-25", {"M2": slice(60, 61)}
    )
    source = Source.from_path(path)
    request = PreviewRequest(
        build_registry().get("generic"), source, {"tz": "Europe/London"}, MappingTable()
    )
    data = load_preview(request)
    assert data.report is not None
    gaps = [w for w in data.report.warnings if w.kind == "gap before"]
    assert [(w.title, w.message, w.count, w.source_id) for w in gaps] == [
        ("Readings missing",
         "M2 (kWh): 1 reading(s) missing from 2026-10-25 05:00 UTC (one every 30 min)", 1, "M2")
    ]  # fmt: skip
    row = data.mapped.iloc[gaps[0].first_row]
    assert row["source_id"] == "M2" and row["time"] == pd.Timestamp("2026-10-25T05:30Z")
    assert data.report.count(Flag.GAP) == 1 and data.report.flags[gaps[0].first_row] & Flag.GAP
