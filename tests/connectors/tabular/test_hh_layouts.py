"""Golden tests of the UK half-hourly engine: one composed file per layout, plus the real samples.

Inputs are in tests/data/hh (composed from the documented headers by compose.py);
the value of half-hour slot s in row r is r*100 + s + 1 unless a case needs a gap.
Every expectation is a reading at an exact UTC instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.core.connector_catalog import build_registry
from connectors.base import READING_COLUMNS, ReadingBatch, Source, SourceError, concat_batches
from connectors.tabular.df2 import StarkDf2Connector
from connectors.tabular.engine import UkHalfHourlyConnector

DATA = Path(__file__).resolve().parents[2] / "data" / "hh"


def read(path: Path, **options: Any) -> ReadingBatch:
    """Read a file with the connector the registry picks (as `--connector auto` does)."""
    source = Source.from_path(path)
    best = build_registry().best(source)
    assert best is not None, f"no connector recognises {path.name}"
    return concat_batches(list(best.connector.read(source, options)))


def at(batch: ReadingBatch, when: str, source: str | None = None, quantity: str = "kWh") -> Any:
    """The one reading at UTC instant `when` (ISO, no offset) for a source and quantity."""
    frame = batch.readings
    hit = frame[(frame["time"] == pd.Timestamp(when, tz="UTC")) & (frame["quantity"] == quantity)]
    if source is not None:
        hit = hit[hit["source_id"] == source]
    assert len(hit) == 1, f"{len(hit)} readings at {when}"
    return hit.iloc[0]


def value_at(batch: ReadingBatch, when: str, **kwargs: Any) -> float:
    return float(at(batch, when, **kwargs)["value"])


@pytest.mark.parametrize(
    ("name", "layout"),
    [
        ("energy-assets.csv", "energy-assets"),
        ("energy-assets-hr.csv", "energy-assets"),
        ("energy-assets-noisy.csv", "energy-assets"),
        ("imserv.csv", "imserv"),
        ("imserv-flags.csv", "imserv"),
        ("stark-portal.csv", "stark-portal"),
        ("sse.csv", "sse"),
        ("edf-historic.csv", "edf-historic"),
        ("edf-portal.csv", "edf-portal"),
        ("settlement-50.csv", "settlement-50"),
        ("npower.csv", "npower"),
        ("sheffield.csv", "sheffield"),
        ("british-gas.csv", "british-gas"),
        ("banes.csv", "banes"),
        ("row-per-reading.csv", "row-per-reading"),
        ("stark.df2", "stark-df2"),
    ],
)
def test_layout_is_recognised_from_the_header(name: str, layout: str) -> None:
    batch = read(DATA / name)
    assert batch.info["layout"] == layout
    assert 0.5 <= batch.info["layout_score"] <= 1.0
    assert list(batch.readings.columns) == list(READING_COLUMNS)
    assert (batch.readings["interval_s"] == 1800).all()
    assert not [p for p in batch.problems if p.kind != "warning"]


def test_energy_assets_end_labels_total_and_gaps() -> None:
    batch = read(DATA / "energy-assets.csv")
    assert value_at(batch, "2024-01-15T00:30") == 101  # label 00:30 ends 00:30 GMT
    assert value_at(batch, "2024-01-16T00:00") == 148  # label 00:00 is the day's end
    assert value_at(batch, "2024-07-14T23:30") == 201  # BST: 00:30 local = 23:30 UTC
    assert value_at(batch, "2024-07-15T23:00") == 248
    assert len(batch.readings) == 48 + 46  # blank and "-" are missing, never zero
    times = set(batch.readings["time"])
    assert pd.Timestamp("2024-07-15T11:00", tz="UTC") not in times  # label 12:00 was blank
    assert pd.Timestamp("2024-07-15T11:30", tz="UTC") not in times  # label 12:30 was "-"
    assert 999 not in set(batch.readings["value"])  # Total is not a period


def test_energy_assets_hr_labels_and_noise() -> None:
    hr = read(DATA / "energy-assets-hr.csv")
    assert value_at(hr, "2024-01-15T00:30", source="C77") == 101
    assert value_at(hr, "2024-01-16T00:00", source="C77") == 148
    noisy = read(DATA / "energy-assets-noisy.csv")  # BOM, sep=, blank lines, quotes, 15-Jan-24
    assert value_at(noisy, "2024-01-15T00:30", source="1200000000002") == 101
    assert len(noisy.readings) == 48
    assert at(noisy, "2024-01-15T00:30")["origin"].endswith("energy-assets-noisy.csv:5:00:30:00")


def test_imserv_start_labels_and_flags() -> None:
    plain = read(DATA / "imserv.csv")  # 2-digit year, 00:00 = first half-hour
    assert value_at(plain, "2024-01-15T00:30", source="10545307") == 101
    assert value_at(plain, "2024-01-15T01:30") == 0  # "0.0" is a reading of zero, not a gap
    assert value_at(plain, "2024-01-16T00:00") == 148
    assert len(plain.readings) == 48
    flagged = read(DATA / "imserv-flags.csv")
    first = at(flagged, "2024-07-15T23:30")
    assert (first["value"], bool(first["estimated"])) == (101, True)
    assert not bool(at(flagged, "2024-07-16T00:00")["estimated"])
    assert bool(at(flagged, "2024-07-16T23:00")["estimated"])


def test_stark_portal_est_flag_preamble_footer_cr_only() -> None:
    batch = read(DATA / "stark-portal.csv")
    assert batch.info["header_line"] == 9  # after an 8-line preamble
    assert value_at(batch, "2024-01-15T00:30", source="2100004035999") == 101
    assert not bool(at(batch, "2024-01-15T00:30")["estimated"])
    assert bool(at(batch, "2024-01-16T12:00")["estimated"])  # Est E
    times = set(batch.readings["time"])
    assert pd.Timestamp("2024-01-17T00:30", tz="UTC") not in times  # Est "-": no readings
    assert value_at(batch, "2024-07-10T23:30") == 401  # 11/07/24 00:30 BST
    assert value_at(batch, "2024-07-11T23:00") == 448  # 00:00 label: the day's end, BST
    assert at(batch, "2024-07-11T23:00")["origin"].endswith("stark-portal.csv:13:00:00")
    assert len(batch.readings) == 3 * 48 and not batch.problems  # the footer is no row


@pytest.mark.parametrize("ending", ["\r\n", "\n"])
def test_stark_portal_with_other_and_mixed_line_endings(tmp_path: Path, ending: str) -> None:
    """The real Stark export starts with a bare LF line, then CRLF: same readings, lines."""
    lines = (DATA / "stark-portal.csv").read_bytes().decode().split("\r")
    path = tmp_path / "stark-portal.csv"
    path.write_bytes(("\n" + ending.join(lines[1:])).encode())
    batch = read(path)
    assert batch.readings.equals(read(DATA / "stark-portal.csv").readings)  # origins too
    assert at(batch, "2024-07-11T23:00")["origin"] == "stark-portal.csv:13:00:00"
    assert not batch.problems


def test_sse_units_rows_and_flags() -> None:
    batch = read(DATA / "sse.csv")
    assert value_at(batch, "2024-01-15T00:30", source="1900000000009") == 101
    assert value_at(batch, "2024-01-15T00:30", source="1900000000009", quantity="kVArh") == 201
    lead = at(batch, "2024-01-15T00:30", source="1900000000009:LEAD", quantity="kVArh")
    assert lead["value"] == 301
    assert bool(at(batch, "2024-01-15T05:30", source="1900000000009")["estimated"])  # 05:00 Flag E


def test_edf_historic_is_utc_with_type_statuses() -> None:
    batch = read(DATA / "edf-historic.csv")  # 27-10-2024 is a clock-change day, but UTC: 48
    assert batch.info["tz"] == "UTC"
    assert value_at(batch, "2024-10-27T00:30") == 101
    assert value_at(batch, "2024-10-28T00:00") == 148
    assert bool(at(batch, "2024-10-27T03:00")["estimated"])  # 02:30 Type Estimated
    assert pd.Timestamp("2024-10-27T03:30", tz="UTC") not in set(batch.readings["time"])  # "-"
    assert len(batch.readings) == 47


def test_edf_portal_fifty_values_then_statuses() -> None:
    batch = read(DATA / "edf-portal.csv")
    days = batch.readings.groupby(batch.readings["time"].dt.tz_convert("Europe/London").dt.date)
    long_day = batch.readings[batch.readings["value"] < 200]
    assert len(long_day) == 50  # 27 Oct 2024: 50 settlement periods
    assert value_at(batch, "2024-10-26T23:30") == 101 and bool(
        at(batch, "2024-10-26T23:30")["estimated"]
    )
    assert value_at(batch, "2024-10-27T00:30") == 103  # period 3: 01:00-01:30 BST
    assert value_at(batch, "2024-10-27T01:30") == 105  # period 5: 01:00-01:30 GMT
    assert value_at(batch, "2024-10-28T00:00") == 150
    assert value_at(batch, "2024-03-31T01:30") == 203  # short day: period 3 ends 02:30 BST
    assert value_at(batch, "2024-03-31T23:00") == 246
    assert len(batch.readings) == 50 + 46 + 48 and days.ngroups >= 3


def test_settlement_fifty_columns_by_period() -> None:
    batch = read(DATA / "settlement-50.csv")
    assert value_at(batch, "2025-10-25T23:30") == 101
    assert value_at(batch, "2025-10-26T01:00") == 104  # period 4 ends 01:00 GMT (first 01:30 BST)
    assert value_at(batch, "2025-10-27T00:00") == 150
    assert value_at(batch, "2025-03-30T01:30") == 203
    assert value_at(batch, "2025-03-30T23:00") == 246
    assert value_at(batch, "2025-01-16T00:00") == 348
    assert len(batch.readings) == 50 + 46 + 48


def test_npower_numbered_with_row_status() -> None:
    batch = read(DATA / "npower.csv")
    assert value_at(batch, "2024-01-15T00:30") == 101  # Kwh1 = 00:00-00:30
    assert not bool(at(batch, "2024-01-15T00:30")["estimated"])
    assert bool(at(batch, "2024-01-17T00:00")["estimated"])  # colStatuskwh E


def test_sheffield_kwh_and_kvarh_blocks() -> None:
    batch = read(DATA / "sheffield.csv")
    assert value_at(batch, "2024-01-15T00:30") == 101
    assert value_at(batch, "2024-01-16T00:00", quantity="kVArh") == 548
    assert value_at(batch, "2024-01-17T00:00") == 248  # written 248.00000000
    reactive = batch.readings[batch.readings["quantity"] == "kVArh"]
    assert reactive["time"].max() == pd.Timestamp("2024-01-16T00:00", tz="UTC")  # 16th: empty
    assert len(batch.readings) == 48 + 48 + 48 and not batch.problems


def test_british_gas_interval_indicators() -> None:
    batch = read(DATA / "british-gas.csv")
    assert value_at(batch, "2024-01-15T01:30") == 103
    assert bool(at(batch, "2024-01-15T01:30")["estimated"])
    assert not bool(at(batch, "2024-01-15T01:00")["estimated"])


def test_banes_bracket_labels_mpan_at_end_sql_dates() -> None:
    batch = read(DATA / "banes.csv")  # CRLF, blank lines, "Jul 15 2024 12:00AM"
    assert set(batch.readings["source_id"]) == {"2200012767323", "2200012833358"}
    assert value_at(batch, "2024-07-14T23:30", source="2200012767323") == 101  # [00:30] in BST
    assert value_at(batch, "2024-07-15T23:00", source="2200012767323") == 148  # [24:00]
    second = at(batch, "2024-07-15T23:00", source="2200012833358")
    assert second["value"] == 248 and second["origin"].endswith("banes.csv:4:[24:00]")
    assert len(batch.readings) == 2 * 48 and not batch.problems


def test_row_per_reading_and_df2() -> None:
    rows = read(DATA / "row-per-reading.csv")  # a "sep=," line before the header
    assert value_at(rows, "2024-01-15T00:30") == 1
    assert len(rows.readings) == 48 and not rows.problems
    assert value_at(rows, "2024-01-16T00:00") == 48
    assert bool(at(rows, "2024-01-15T02:00")["estimated"])
    df2 = read(DATA / "stark.df2")
    assert value_at(df2, "2024-01-15T00:30", source="2000000000008") == 1
    assert bool(at(df2, "2024-01-15T00:30")["estimated"])
    assert value_at(df2, "2024-01-16T00:00") == 48


def test_layout_option_overrides_detection() -> None:
    connector = UkHalfHourlyConnector()
    stark = Source.from_path(DATA / "stark-portal.csv")
    forced = concat_batches(list(connector.read(stark, {"layout": "energy-assets"})))
    assert forced.info["layout"] == "energy-assets"  # fits, though stark-portal scores higher
    assert value_at(forced, "2024-01-18T00:00") == 348  # without the Est column, "-" is ignored
    with pytest.raises(SourceError, match="no layout 'british-gas'"):
        list(connector.read(stark, {"layout": "british-gas"}))
    with pytest.raises(SourceError, match="unknown layout 'nope'; known layouts: banes"):
        list(connector.read(stark, {"layout": "nope"}))


def test_df2_connector_refuses_other_files() -> None:
    assert StarkDf2Connector().sniff(b"MPAN,Date\n", "x.csv") == 0.0
    assert UkHalfHourlyConnector().sniff((DATA / "stark.df2").read_bytes(), "stark.df2") == 0.0


class TestRealSamples:
    """The five real exports in ../shared/samples/uk-hh (Energy Sparks fixtures).

    Skipped when ../shared is absent (a fresh clone); each quirk they show is also in a
    generated file of tests/data/hh, tested above.
    """

    def test_imserv_style(self, uk_samples: Path) -> None:
        batch = read(uk_samples / "energysparks_imserv-style_site-id_meter-number_row-per-day.csv")
        assert batch.info["layout"] == "imserv"
        assert value_at(batch, "2018-11-12T00:30", source="10545307") == 9.9  # 00:00 column
        assert value_at(batch, "2018-11-13T00:00") == 1.116382  # 23:30 column
        assert len(batch.readings) == 48

    def test_stark_portal_cr_only(self, uk_samples: Path) -> None:
        batch = read(uk_samples / "energysparks_stark-portal_meter-sequential_CR-line-endings.csv")
        assert batch.info["layout"] == "stark-portal"
        assert value_at(batch, "2023-03-22T00:30", source="21000040359999") == 0.621
        assert value_at(batch, "2023-07-10T23:30") == 0.756  # 11/07/23 00:30 BST
        assert value_at(batch, "2023-07-11T23:00") == 0.515  # 00:00 label, BST
        assert at(batch, "2023-07-11T23:00")["origin"].endswith(":11:00:00")
        assert len(batch.readings) == 96 and not batch.problems

    def test_banes(self, uk_samples: Path) -> None:
        batch = read(uk_samples / "energysparks_banes_0030-to-2400_mpan-at-end.csv")
        assert batch.info["layout"] == "banes"
        assert value_at(batch, "2019-11-13T00:30", source="2200012767323") == 0.969
        assert value_at(batch, "2019-11-14T00:00", source="2200012833358") == 1.317
        assert len(batch.readings) == 5 * 48

    def test_sheffield(self, uk_samples: Path) -> None:
        batch = read(uk_samples / "energysparks_sheffield_kwh1-48_kvarh1-48.csv")
        assert batch.info["layout"] == "sheffield"
        assert value_at(batch, "2019-12-10T00:30", source="2336533093112") == 6.25
        assert value_at(batch, "2019-12-12T00:00") == 5.29
        assert set(batch.readings["quantity"]) == {"kWh"}  # the kVArh block is empty
        assert len(batch.readings) == 96

    def test_edf_row_per_reading(self, uk_samples: Path) -> None:
        batch = read(uk_samples / "energysparks_edf-highlands_row-per-reading.csv")
        assert batch.info["layout"] == "row-per-reading"
        assert value_at(batch, "2019-11-04T00:30", source="1712423842469") == 1.9
        assert value_at(batch, "2019-11-04T09:00") == 14.7
        assert len(batch.readings) == 48 and not batch.problems


def test_status_column_after_each_value_whatever_its_name(tmp_path: Path) -> None:
    labels = [f"{(m // 60) % 24:02d}:{m % 60:02d}" for m in range(30, 1441, 30)]
    header = "MPAN,Date," + ",".join(f"{label},Status" for label in labels)
    cells = [f"{s + 1},{'Estimated' if s == 1 else 'Actual'}" for s in range(48)]
    cells[2] = "3,-"  # a "-" status: no reading
    path = tmp_path / "status.csv"
    path.write_text(header + "\n1234567890123,15/01/2024," + ",".join(cells) + "\n")
    batch = read(path)
    assert batch.info["layout"] == "energy-assets"
    assert bool(at(batch, "2024-01-15T01:00")["estimated"])
    assert not bool(at(batch, "2024-01-15T00:30")["estimated"])
    assert pd.Timestamp("2024-01-15T01:30", tz="UTC") not in set(batch.readings["time"])
    assert len(batch.readings) == 47


@pytest.mark.parametrize(
    "header",
    ["meter,timestamp,kwh", "id,time,value", "meter,timestamp,kwh,status", "mpan,datetime,value"],
)
def test_a_plain_generic_csv_is_left_to_the_generic_connector(tmp_path: Path, header: str) -> None:
    flag = ",A" if header.endswith("status") else ""
    rows = [f"m1,2025-01-15T00:30:00Z,1.5{flag}", f"m1,2025-01-15T01:00:00Z,2.5{flag}"]
    path = tmp_path / "plain.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    source = Source.from_path(path)
    best = build_registry().best(source)
    assert best is not None and best.connector.info.id == "generic"
    assert UkHalfHourlyConnector().sniff(source.head(), path.name) < best.score
    assert value_at(read(path), "2025-01-15T01:00", source="m1") == 2.5
