"""Accuenergy readers: snapshot, data-log JSON, WEB2, data-log CSV; AcuLink 810 and AcuRev 2100."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from connectors.base import SourceError
from connectors.push import aculink810, acurev2100

T0 = 1778653500  # 2026-05-13T06:25:00Z


def snapshot(**overrides: object) -> bytes:
    document = {
        "timestamp": T0,
        "gateway": {"name": "AcuLink", "model": "AcuLink810", "serial": "S8P12345"},
        "device": {
            "name": "Main",
            "model": "Acuvim-L",
            "serial": "221",
            "online": True,
            "readings": [
                {"param": "Freq_Hz", "value": "50.01", "unit": "Hz"},
                {"param": "EP_IMP_kWh", "value": "1234.5", "unit": "kWh"},
                {"param": "Psum_kW", "value": "----", "unit": "kW"},
                {"param": "DMD_P_kW", "value": "12.5", "unit": "kW"},
            ],
        },
    }
    document.update(overrides)
    return json.dumps(document).encode()


def test_aculink_snapshot_source_ids_quantities_and_missing_values() -> None:
    columns = aculink810.parse_push(snapshot(), "push-body", {"device_name": "site1"})
    frame = columns.to_frame()
    assert list(frame["source_id"]) == ["S8P12345/221/EP_IMP_kWh", "S8P12345/221/DMD_P_kW"]
    assert list(frame["quantity"]) == ["kWh-register", "kW"]
    assert list(frame["value"]) == [1234.5, 12.5]
    assert set(frame["time"]) == {pd.Timestamp(T0, unit="s", tz="UTC")}
    assert columns.info["skipped_params"] == ["Freq_Hz", "Psum_kW"]  # instantaneous: opt-in
    assert columns.info["meters"] == ["S8P12345/221"]


def test_aculink_gateway_falls_back_to_registered_name_and_iso_time() -> None:
    data = snapshot(gateway={}, timestamp="2026-05-13T07:25:00+01:00")
    document = json.loads(data)
    document["device"].pop("serial")
    frame = aculink810.parse_push(json.dumps(document).encode(), "b", {"device_name": "site1"})
    frame = frame.to_frame()
    assert frame["source_id"][0] == "site1/Main/EP_IMP_kWh"
    assert frame["time"][0] == pd.Timestamp(T0, unit="s", tz="UTC")


def test_datalog_json_arrays_aligned_with_timestamps_local_time() -> None:
    document = {
        "timestamp": ["2026-03-08 01:00:00", "2026-03-08 01:30:00", "2026-03-08 03:00:00"],
        "gateway": {"serial": "S8P1"},
        "device": {
            "name": "dev",
            "serial": "7",
            "readings": [
                {"param": "EP_IMP_kWh", "unit": "kWh", "value": ["10", "nan", 12]},
                {"param": "DMD_P_kW", "unit": "kW", "value": ["-nan", "", "4.5"]},
            ],
        },
    }
    options = {"tz": "America/New_York"}
    frame = aculink810.parse_push(json.dumps(document).encode(), "f.json", options).to_frame()
    assert list(frame["value"]) == [10.0, 12.0, 4.5]
    # 03:00 EDT on the spring-forward day is 07:00 UTC; 01:00 EST is 06:00 UTC
    assert list(frame["time"]) == [
        pd.Timestamp("2026-03-08T06:00Z"),
        pd.Timestamp("2026-03-08T07:00Z"),
        pd.Timestamp("2026-03-08T07:00Z"),
    ]
    document["device"]["readings"][0]["value"] = ["1"]
    with pytest.raises(SourceError, match="1 values for 3 timestamps"):
        aculink810.parse_push(json.dumps(document).encode(), "f.json", options)


def test_web2_message_with_several_modules() -> None:
    document = {
        "timestamp": T0,
        "comm_head": {"model": "AXM-WEB2", "sn": "W2SN9"},
        "modules": [
            {"name": "m1", "sn": "11", "reading": [{"param": "Ep_imp_kWh", "value": "5"}]},
            {"name": "m2", "reading": [{"param": "P_kW", "value": "-1.5", "unit": "kW"}]},
        ],
    }
    frame = aculink810.parse_push(json.dumps(document).encode(), "b", {}).to_frame()
    assert list(frame["source_id"]) == ["W2SN9/11/Ep_imp_kWh"]  # P_kW is opt-in
    options = {"params": ["P_*"]}
    frame = aculink810.parse_push(json.dumps(document).encode(), "b", options).to_frame()
    assert list(frame["source_id"]) == ["W2SN9/11/Ep_imp_kWh", "W2SN9/m2/P_kW"]
    assert list(frame["value"]) == [5.0, -1.5]


REV_NAME = "Logger1-AHI260110088-AcuRev2100-1778653500-15min.csv"
REV_METER = "AHI260110088/AcuRev2100"  # gateway serial / meter, from the file name


def rev_csv(header: bool = True) -> bytes:
    lines = ["timestamp,EP_IMP_001_kWh,EP_IMP_s001_kWh,DMD_P_001_kW,DI_1,I_001_A"] if header else []
    lines += [
        "1778653500,100.5,200,3.5,1,2.2",
        "1778654400,101.0,,----,0,2.1",
    ]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def test_acurev_csv_with_bom_and_header() -> None:
    columns = acurev2100.parse_push(rev_csv(), REV_NAME, {"device_name": "rev1"})
    frame = columns.to_frame()
    pairs = list(zip(frame["source_id"], frame["quantity"], frame["value"], strict=True))
    assert pairs == [
        (f"{REV_METER}/001", "kWh-register", 100.5),
        (f"{REV_METER}/001", "kWh-register", 101.0),
        (f"{REV_METER}/s001", "kWh-register", 200.0),
        (f"{REV_METER}/001", "kW", 3.5),
        (f"{REV_METER}/DI_1", "state", 1.0),
        (f"{REV_METER}/DI_1", "state", 0.0),
    ]
    assert frame["origin"][0] == f"{REV_NAME}:2:EP_IMP_001_kWh"
    assert columns.info["skipped_params"] == ["I_001_A"]


def test_acurev_csv_without_header_needs_the_column_list() -> None:
    with pytest.raises(SourceError, match="no header row"):
        acurev2100.parse_push(rev_csv(header=False), REV_NAME, {"device_name": "rev1"})
    options = {
        "device_name": "rev1",
        "columns": ["EP_IMP_001_kWh", "EP_IMP_s001_kWh", "DMD_P_001_kW", "DI_1", "I_001_A"],
        "digital_inputs": False,
    }
    frame = acurev2100.parse_push(rev_csv(header=False), REV_NAME, options).to_frame()
    assert f"{REV_METER}/DI_1" not in set(frame["source_id"])
    assert len(frame) == 4


def test_acurev_key_table_is_configuration() -> None:
    options = {
        "device_name": "rev1",
        "key_table": {"I_001_A": ["001", "A"]},
        "replace_key_table": True,
    }
    frame = acurev2100.parse_push(rev_csv(), REV_NAME, options).to_frame()
    pairs = set(zip(frame["source_id"], frame["quantity"], strict=True))
    assert pairs == {(f"{REV_METER}/001", "A")}


def test_acurev_bad_cell_names_file_line_and_column() -> None:
    data = rev_csv().replace(b"101.0", b"1o1")
    columns = acurev2100.parse_push(data, REV_NAME, {"device_name": "rev1"})
    [problem] = columns.problems
    assert (problem.file, problem.line, problem.column, problem.value) == (
        REV_NAME,
        3,
        "EP_IMP_001_kWh",
        "1o1",
    )


def test_a_bad_json_value_has_no_line_and_its_neighbours_are_numbered_by_position() -> None:
    readings = [
        {"param": "EP_IMP_kWh", "value": "1o1", "unit": "kWh"},
        {"param": "DMD_P_kW", "value": "12.5", "unit": "kW"},
    ]
    device = {"name": "Main", "serial": "221", "readings": readings}
    columns = aculink810.parse_push(snapshot(device=device), "push-body", {"device_name": "s"})
    [problem] = columns.problems
    assert (problem.file, problem.line, problem.column, problem.value) == (
        "push-body",
        None,
        "EP_IMP_kWh",
        "1o1",
    )
    assert columns.origin == ["push-body:1:DMD_P_kW"]


def test_aculink_csv_takes_meter_from_file_name_and_datasource_field() -> None:
    frame = aculink810.parse_push(rev_csv(), REV_NAME, {"device_name": "gw"}).to_frame()
    assert frame["source_id"][0] == "AHI260110088/AcuRev2100/EP_IMP_001_kWh"
    form = {"form": {"datasource": "AHI999/AcuRev2100"}, "device_name": "gw"}
    frame = aculink810.parse_push(rev_csv(), "upload.csv", form).to_frame()
    assert frame["source_id"][0] == "gw/AHI999/EP_IMP_001_kWh"  # registered name / meter


def test_not_accuenergy_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="keys found: points"):
        aculink810.parse_push(b'{"points": []}', "b", {})
    with pytest.raises(SourceError, match="HTML"):
        acurev2100.parse_push(b"<html><body>error</body></html>", "b", {})
    for junk in (b"junk", b"a,b\nc,d\n"):
        with pytest.raises(SourceError, match="not an Accuenergy data-log CSV"):
            acurev2100.parse_push(junk, "b", {})


def test_a_value_too_large_for_a_float_is_named_not_read() -> None:
    data = rev_csv().replace(b"101.0", b"1e999")
    columns = acurev2100.parse_push(data, REV_NAME, {"device_name": "rev1"})
    [problem] = columns.problems
    assert (problem.line, problem.column, problem.value) == (3, "EP_IMP_001_kWh", "1e999")
    assert "not a finite number" in problem.message
    assert all(map(math.isfinite, columns.value))


def test_a_dropped_accuenergy_file_is_ranked_to_its_reader_and_read_whole(tmp_path) -> None:
    from app.core.connector_catalog import build_registry
    from connectors.base import Source

    registry = build_registry()
    (tmp_path / "snapshot.json").write_bytes(snapshot())
    (tmp_path / REV_NAME).write_bytes(rev_csv())
    ranked = {
        path.name: [(c.connector.info.id, c.score) for c in registry.rank(Source.from_path(path))]
        for path in sorted(tmp_path.iterdir())
    }
    assert ranked["snapshot.json"][0] == ("aculink810", 0.7)
    assert ranked[REV_NAME][0] == ("acurev2100", 0.85)
    options = {"device_name": "rev1", "registers": "raw"}
    [batch] = acurev2100.CONNECTOR.read(Source.from_path(tmp_path / REV_NAME), options)
    assert (
        len(batch.readings) == 6 and batch.readings["origin"][0] == f"{REV_NAME}:2:EP_IMP_001_kWh"
    )
