"""Accuenergy bodies whose readings are pinned (tests/data/push/accuenergy_golden.json).

Every case is made here (no copied file): the benchmark's bodies, data-log CSVs
and JSON over the clock changes of Europe/London and America/New_York, bad,
missing and negative values, odd CSV layouts, snapshots and WEB2 messages.
`read_case` turns a reader's result (or refusal) into plain JSON, so a change
to the readers that alters any reading, time, origin, problem or info shows.

    .venv/bin/python -m tests.connectors.push.accuenergy_cases --write   # re-pin (review the diff!)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.base import SourceError
from connectors.push import aculink810, acurev2100
from tests.bench.push_bodies import aculink_body, acurev_body

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "push" / "accuenergy_golden.json"
READERS = {"acurev2100": acurev2100.parse_push, "aculink810": aculink810.parse_push}
REV_NAME = "Logger1-AHI260110088-AcuRev2100-{epoch}-1min.csv"

Case = tuple[str, str, bytes, str, dict[str, Any]]  # (case id, reader, body, name, options)


def _csv(header: list[str], rows: list[list[str]], end: str = "\r\n", bom: bool = False) -> bytes:
    lines = [",".join(header)] if header else []
    lines += [",".join(row) for row in rows]
    return (("\ufeff" if bom else "") + end.join(lines) + end).encode()


def _bench_cases() -> Iterator[Case]:
    for index in (0, 1, 7, 96, 500):
        body, content_type = acurev_body(index, index % 16)
        boundary = content_type.split("boundary=")[1].encode()
        start = body.index(b"\r\n\r\n", body.index(b'filename="')) + 4
        data = body[start : body.index(b"\r\n--" + boundary + b"--")]
        name = body[body.index(b'filename="') + 10 :].split(b'"')[0].decode()
        yield f"bench-acurev-{index}", "acurev2100", data, name, {"form": {"MODE": "LOGFILEUPLOAD"}}
        body, _ = aculink_body(index, index % 16)
        keep = {"other_params": "keep"} if index == 7 else {}
        yield f"bench-aculink-{index}", "aculink810", body, "push-body", keep


def _clock_change_cases() -> Iterator[Case]:
    header = ["TimeTag", "EP_IMP_001_kWh", "DMD_P_001_kW", "DI_ST_001"]
    days = {  # (zone, local day, first hour)
        "london-back": ("Europe/London", "2026-10-25", 0),
        "london-forward": ("Europe/London", "2026-03-29", 0),
        "newyork-back": ("America/New_York", "2026-11-01", 0),
        "newyork-forward": ("America/New_York", "2026-03-08", 1),
    }
    for key, (zone, day, first) in days.items():
        rows, value = [], 100.0
        for step in range(12):  # 15-minute rows over three hours
            minutes = first * 60 + step * 15
            rows.append(
                [f"{day} {minutes // 60:02d}:{minutes % 60:02d}", f"{value:.3f}", "1.5", "1"]
            )
            value += 0.25
        if key.endswith("back"):  # the repeated hour sent twice, in time order
            again = [r[:] for r in rows[4:8]]
            for r in again:
                r[1] = f"{float(r[1]) + 10:.3f}"
            rows = rows[:8] + again + rows[8:]
        options = {"tz": zone, "meter": "m1"}
        yield f"clock-{key}", "acurev2100", _csv(header, rows), "clock.csv", options
        yield f"clock-{key}-link", "aculink810", _csv(header, rows), "clock.csv", options
    lone = [["2026-10-25 01:30", "5", "1", "0"]]  # ambiguous with nothing to settle it
    yield (
        "clock-ambiguous-alone",
        "acurev2100",
        _csv(header, lone),
        "x.csv",
        {
            "tz": "Europe/London",
            "meter": "m1",
        },
    )


def _odd_csv_cases() -> Iterator[Case]:
    name = REV_NAME.format(epoch=1778653500)
    header = ["timestamp", "EP_IMP_001_kWh", "EP_IMP_s001_kWh", "DMD_P_001_kW", "DI_1", "I_A"]
    rows = [
        ["1778653500", "100.5", "200", "3.5", "1", "2.2"],
        ["1778653560", "101.0", "", "----", "0", "2.1"],
        ["1778653620", "1o1", "nan", "-3", "-nan", "x"],
        ["1778653680", "-4", "1e999", " 7.25 ", "+1", "inf"],
        ["1778653740", "1_000", "infinity", ".5", "5.", "1e3"],
        ["bad-time", "1", "2", "3", "4", "5"],
        ["1778653860", "9"],  # short row
        ["1778653920", "9", "9", "9", "9", "9", "extra"],
        ["1778653980000", "12", "13", "14", "0", "1"],  # milliseconds
    ]
    yield "csv-bad-values", "acurev2100", _csv(header, rows, bom=True), name, {}
    yield "csv-bad-values-link", "aculink810", _csv(header, rows), name, {"other_params": "keep"}
    yield "csv-lf", "acurev2100", _csv(header, rows[:2], end="\n"), name, {}
    semi = _csv(header, rows[:2]).replace(b",", b";")
    yield "csv-semicolon", "acurev2100", semi, name, {"delimiter": ";"}
    yield "csv-no-header", "acurev2100", _csv([], rows[:3]), name, {"columns": header[1:]}
    moved = [[r[1], r[0], *r[2:]] for r in rows[:3]]
    swapped = [header[1], "When", *header[2:]]
    yield "csv-time-column", "acurev2100", _csv(swapped, moved), name, {"time_column": "when"}
    quoted = b'timestamp,EP_IMP_001_kWh\r\n"1778653500","1,5"\r\n1778653560,"2.5"\r\n\r\n,\r\n'
    yield "csv-quoted", "acurev2100", quoted, name, {}
    iso = [
        ["2026-05-13T06:25:00Z", "1", "2", "3", "1", "0"],
        ["2026-05-13T07:26:00+01:00", "2", "3", "4", "0", "0"],
        ["13/05/2026 06:27", "3", "4", "5", "1", "0"],
        ["05/14/2026 06:28:30", "4", "5", "6", "1", "0"],
    ]
    yield "csv-iso-and-slash", "acurev2100", _csv(header, iso), "x.csv", {"meter": "m"}
    yield "csv-slash-unproven", "acurev2100", _csv(header, iso[2:3]), "x.csv", {"meter": "m"}
    local = [["2026-05-13 07:25:00", "1", "2", "3", "1", "0"]]
    zone_name = REV_NAME.format(epoch=1778653500)
    yield "csv-zone-agrees", "acurev2100", _csv(header, local), zone_name, {"tz": "Europe/London"}
    yield "csv-zone-wrong", "acurev2100", _csv(header, local), zone_name, {"tz": "UTC"}
    from_name = {"zone_from_file_name": True}
    yield "csv-zone-from-name", "acurev2100", _csv(header, local), zone_name, from_name
    fmt = {"time_encoding": "%d/%m/%Y %H:%M", "meter": "m"}
    yield "csv-strptime", "acurev2100", _csv(header, iso[2:3]), "x.csv", fmt
    table = {"key_table": {"I_A": ["001", "A"]}, "digital_inputs": False}
    yield "csv-key-table", "acurev2100", _csv(header, rows[:2]), name, table
    yield "csv-not-ours", "acurev2100", _csv(["timestamp", "Foo"], [["1", "2"]]), name, {}


def _json_cases() -> Iterator[Case]:
    t0 = 1778653500
    snapshot = {
        "timestamp": t0,
        "gateway": {"name": "AcuLink", "model": "AcuLink810", "serial": "S8P12345"},
        "device": {
            "name": "Main",
            "model": "Acuvim-L",
            "serial": "221",
            "readings": [
                {"param": "Freq_Hz", "value": "50.01", "unit": "Hz"},
                {"param": "EP_IMP_kWh", "value": 1234.5, "unit": "kWh"},
                {"param": "EP_EXP_kWh", "value": 12, "unit": "kWh"},
                {"param": "EP_NET_kWh", "value": "-2.5", "unit": "kWh"},
                {"param": "Psum_kW", "value": "----", "unit": "kW"},
                {"param": "DMD_P_kW", "value": " 12.5 ", "unit": "kW"},
                {"param": "DI4", "value": True},
                {"param": "DMD_Q_kvar", "value": None, "unit": "kvar"},
                {"param": "EQ_IMP_kvarh", "value": "1e999", "unit": "kvarh"},
                {"param": "EP_TOTAL_kWh", "value": -1, "unit": "kWh"},
            ],
        },
    }
    yield "json-snapshot", "aculink810", json.dumps(snapshot).encode(), "push-body", {}
    yield (
        "json-snapshot-keep",
        "aculink810",
        json.dumps(snapshot).encode(),
        "b",
        {
            "other_params": "keep",
            "net_energy": "raw",
        },
    )
    yield (
        "json-snapshot-params",
        "aculink810",
        json.dumps(snapshot).encode(),
        "b",
        {
            "params": ["Freq_*", "EQ_*"],
        },
    )
    log = {
        "timestamp": [t0, t0 + 60, "2026-05-13T06:27:00Z", t0 * 1000 + 180_000, "x"],
        "gateway": {"serial": "AHI260110088"},
        "device": {
            "serial": "AcuRev4100",
            "readings": [
                {"param": "EP_IMP_001_kWh", "unit": "kWh", "value": ["1.0", "nan", 2, 2.5, "3"]},
                {"param": "DMD_P_001_kW", "unit": "kW", "value": [1, 2, 3, 4, 5]},
                {"param": "DI_ST_001", "value": ["1", "0", "1", "0", "1"]},
            ],
        },
    }
    yield "json-datalog", "aculink810", json.dumps(log).encode(), "push-body", {}
    yield "json-datalog-rev", "acurev2100", json.dumps(log).encode(), "push-body", {}
    local = dict(
        log,
        timestamp=[
            "2026-10-25 01:30:00",
            "2026-10-25 01:45:00",
            "2026-10-25 01:00:00",
            "2026-10-25 01:15:00",
            "2026-10-25 02:00:00",
        ],
    )
    yield (
        "json-datalog-london",
        "aculink810",
        json.dumps(local).encode(),
        "b",
        {"tz": "Europe/London"},
    )
    web2 = {
        "timestamp": t0,
        "comm_head": {"model": "WEB2", "sn": "AHI251000033"},
        "modules": [
            {"sn": "M1", "reading": [{"param": "EP_IMP_kWh", "value": "5"}]},
            {"name": "M2", "reading": [{"param": "DMD_P_kW", "value": "6", "unit": "kW"}]},
        ],
    }
    yield "json-web2", "aculink810", json.dumps(web2).encode(), "push-body", {}
    yield "json-not-ours", "aculink810", b'{"points": []}', "push-body", {}


def cases() -> list[Case]:
    """Every pinned case, in a fixed order."""
    return [*_bench_cases(), *_clock_change_cases(), *_odd_csv_cases(), *_json_cases()]


def read_case(reader: str, body: bytes, name: str, options: dict[str, Any]) -> dict[str, Any]:
    """What a reader makes of a body, as plain JSON (readings, problems, info, or the refusal)."""
    try:
        columns = READERS[reader](body, name, {"device_name": "gw", **options})
    except SourceError as exc:
        return {"refused": str(exc)}
    rows = zip(
        columns.source_id,
        columns.quantity,
        columns.unit,
        columns.time_ns,
        columns.interval_s,
        columns.value,
        columns.note,
        columns.origin,
        strict=True,
    )
    return {
        "readings": [list(row) for row in rows],
        "problems": [p.describe() for p in columns.problems],
        "info": columns.info,
    }


def read_all() -> dict[str, Any]:
    """Every case's reading, by case id."""
    return {key: read_case(reader, body, name, opts) for key, reader, body, name, opts in cases()}


if __name__ == "__main__":
    if "--write" in sys.argv:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(read_all(), indent=0, sort_keys=True) + "\n")
        print(f"wrote {GOLDEN}")
