"""Property tests: no push reader crashes, invents a value or lets a non-finite one through.

Arbitrary bytes, and generated samples of every push shape mutated byte by byte,
go through every push reader and the Readings-API JSON connector: each gives a
`SourceError` (a named refusal) or readings whose values are finite numbers
written in the body, with every unread value a problem naming file and place.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import Source, SourceError
from connectors.generic.readings_json import ReadingsJsonConnector
from connectors.push import aculink810, acurev2100, episensor, mapped
from connectors.push.common import PointColumns

NAME = "Logger1-AHI260110088-AcuRev2100-1778651820-1min.csv"
NUMBER = re.compile(rb"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
MAPPING = {"points": "data.records", "id": "sensor.serial", "time": "ts", "value": "kwh"}
Reader = Callable[[bytes, str, Mapping[str, Any]], PointColumns]
READERS: dict[str, tuple[Reader, dict[str, Any]]] = {
    "episensor": (episensor.parse_push, {}),
    "aculink810": (aculink810.parse_push, {"other_params": "keep", "tz": "America/New_York"}),
    "acurev2100": (acurev2100.parse_push, {"tz": "America/New_York", "meter": "m"}),
    "mapped": (mapped.parse_push, {"mapping": MAPPING}),
}
SAMPLES = [
    json.dumps([{"exportId": "000D6F0001A303D4_333", "timestamp": 1780000000, "value": 12.5}]),
    "id,timestamp,value\nA_333,2026-05-13 06:00:00,1.25\nA_333,2026-05-13 06:15:00,2.5\n",
    "TimeTag,EP_IMP_001_kWh,DMD_P_001_kW,DI_ST_001\n2026-05-13 01:57,80.100,0.099,1\n",
    json.dumps(
        {
            "timestamp": [1778653500, 1778653560],
            "gateway": {"serial": "AHI260110088"},
            "device": {
                "serial": "AcuRev4100",
                "readings": [{"param": "EP_IMP_001_kWh", "unit": "kWh", "value": ["1.0", "nan"]}],
            },
        }
    ),
    json.dumps(
        {
            "timestamp": 1778641440,
            "comm_head": {"sn": "AHI251000033"},
            "modules": [{"sn": "M1", "reading": [{"param": "EP_NET_kWh", "value": "-2.5"}]}],
        }
    ),
    json.dumps(
        {"sensor": {"serial": "S1"}, "data": {"records": [{"ts": "2026-05-13T06:00Z", "kwh": 3}]}}
    ),
    json.dumps(
        [{"meterImportId": "M1", "readings": [{"time": "2026-05-13T06:00:00Z", "value": 4.5}]}]
    ),
]


def numbers_in(body: bytes) -> set[float]:
    found = {0.0, 1.0}  # booleans read as 0/1
    for token in NUMBER.findall(body):
        try:
            number = float(token)
        except (ValueError, OverflowError):
            continue
        if math.isfinite(number):
            found.add(number)
    return found


def check(body: bytes, values: list[float], problems: list[Any]) -> None:
    written = numbers_in(body)
    for value in values:
        assert math.isfinite(value), value
        assert value in written, (value, body[:200])
    for problem in problems:  # named: file and line/column, or the JSON path in the message
        assert problem.file and (problem.column or problem.line or "[" in problem.message)


def read_all(body: bytes) -> None:
    for reader, options in READERS.values():
        try:
            columns = reader(body, NAME, {"device_name": "gw", **options})
        except SourceError as exc:
            assert exc.message
            continue
        check(body, list(columns.value), columns.problems)
        assert len(columns.to_frame()) == len(columns)  # every time fits the schema
    try:
        batches = list(ReadingsJsonConnector().read(Source.from_bytes(body, "b.json"), {}))
    except SourceError:
        return
    for batch in batches:
        check(body, list(batch.readings["value"]), batch.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_read_or_refused_by_name(body: bytes) -> None:
    read_all(body)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(st.sampled_from(SAMPLES)).encode())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["replace", "delete", "insert"]))
        piece = draw(
            st.sampled_from(
                [b"NaN", b"Infinity", b"1e999", b"-", b"9" * 30, b'"', b",", b"13/05/2026", b"\xff"]
            )
            | st.binary(min_size=1, max_size=6)
        )
        if action == "delete":
            del body[at : at + len(piece)]
        elif action == "insert":
            body[at:at] = piece
        else:
            body[at : at + len(piece)] = piece
    return bytes(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_samples_are_read_or_refused_by_name(body: bytes) -> None:
    read_all(body)


def test_a_mapping_reaches_points_nested_in_every_element_of_a_list() -> None:
    body = json.dumps(
        {
            "site": "north",
            "data": {
                "sensors": [
                    {"serial": "A1", "samples": [{"ts": 1780000000, "v": 1.5}]},
                    {"serial": "B2", "samples": [{"ts": 1780000000, "v": 2}, {"ts": 1780000900}]},
                ]
            },
        }
    ).encode()
    mapping = {"points": "data.sensors.*.samples", "id": "serial", "time": "ts", "value": "v"}
    columns = mapped.parse_push(body, "b.json", {"mapping": mapping})
    assert list(zip(columns.source_id, columns.time_ns, columns.value, strict=True)) == [
        ("A1", 1780000000 * 10**9, 1.5),
        ("B2", 1780000000 * 10**9, 2.0),
    ]  # the sample without a value is skipped (missing, not zero)
    assert mapped.point_path("data.sensors.1.serial", mapping["points"]) == "serial"
    assert mapped.points_pattern("data.sensors.0.samples") == mapping["points"]
