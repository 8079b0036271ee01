"""The fake EnergyCAP itself, driven with plain `requests` calls: cascade, validation,
auth, overwrite, per-reading failures, ESA, look-ups, fault injection."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import pytest
import requests

from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.fakes.energycap_tz import TIME_ZONES

KEY = {"ECI-ApiKey": "test-key"}


def post(fake: FakeEnergyCap, path: str, body: Any, **headers: str) -> requests.Response:
    return requests.post(fake.url + path, json=body, headers={**KEY, **headers}, timeout=10)


def get(fake: FakeEnergyCap, path: str) -> requests.Response:
    return requests.get(fake.url + path, headers=KEY, timeout=10)


def one(target: dict[str, Any], time: str = "2024-01-15T00:30:00+00:00", value: Any = 1.5) -> dict:
    return {**target, "readings": [{"time": time, "value": value}]}


@pytest.fixture
def tenant(energycap: FakeEnergyCap) -> FakeEnergyCap:
    """Meter M1 with four channels that differ by type, unit and interval; M2 with one."""
    energycap.add_meter(
        1,
        "M1",
        [
            FakeChannel(11, "C11", "Use", "kWh", 1800),
            FakeChannel(12, "C12", "Demand", "kW", 1800),
            FakeChannel(13, "C13", "Demand", "kVA", 1800),
            FakeChannel(14, "C14", "Demand", "kVA", 900),
        ],
        time_zone="Europe/London",
    )
    energycap.add_meter(2, "M2", [FakeChannel(21, "C21", "Use", "kWh", 900)])
    return energycap


def landed(fake: FakeEnergyCap) -> list[int]:
    return fake.readings()["channel_id"].tolist()


@pytest.mark.parametrize(
    ("target", "channel"),
    [
        ({"channelId": 12, "channelImportId": "C11", "meterImportId": "M2"}, 12),
        ({"channelImportId": "C13", "meterImportId": "M2"}, 13),
        ({"meterImportId": "M2", "observationTypeCode": "Demand", "unitCode": "kW"}, 21),
        ({"meterImportId": "M1", "observationTypeCode": "Use"}, 11),
        ({"meterImportId": "M1", "observationTypeCode": "Demand", "unitCode": "kW"}, 12),
        (
            {
                "meterImportId": "M1",
                "observationTypeCode": "Demand",
                "unitCode": "kVA",
                "channelIntervalInSeconds": 900,
            },
            14,
        ),
    ],
    ids=["channelId", "channelImportId", "only-channel", "by-type", "by-unit", "by-interval"],
)
def test_cascade_picks_the_documented_channel(
    tenant: FakeEnergyCap, target: dict[str, Any], channel: int
) -> None:
    answer = post(tenant, "/api/v3/reading", [one(target)])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "importedReadingsCount": 1,
        "failedReadingsCount": 0,
        "failedReadings": [],
    }
    assert landed(tenant) == [channel]


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ({"channelId": 99}, "channelId 99 not found"),
        ({"channelImportId": "nope"}, "channelImportId 'nope' not found"),
        ({"meterImportId": "M9", "observationTypeCode": "Use"}, "meterImportId 'M9' not found"),
        ({"meterImportId": "M1", "observationTypeCode": "Gas"}, "observationTypeCode 'Gas'"),
        ({"meterImportId": "M1", "observationTypeCode": "Demand", "unitCode": "kVA"}, "2 channels"),
        ({"meterImportId": "M1"}, "4 channels"),
    ],
    ids=["channelId", "channelImportId", "meter", "type", "ambiguous", "no-codes"],
)
def test_unresolvable_targets_fail_per_channel_in_a_200(
    tenant: FakeEnergyCap, target: dict[str, Any], error: str
) -> None:
    body = [one(target), one({"channelId": 11})]
    answer = post(tenant, "/api/v3/reading", body)
    assert answer.status_code == 200
    result = answer.json()
    assert (result["importedReadingsCount"], result["failedReadingsCount"]) == (1, 1)
    [failed] = result["failedReadings"]
    assert error in failed["error"]
    assert failed["readings"][0]["time"] == "2024-01-15T00:30:00+00:00"
    assert failed["readings"][0]["value"] == 1.5
    for key in ("channelId", "channelImportId", "meterImportId", "observationTypeCode"):
        assert failed[key] == target.get(key)
    assert landed(tenant) == [11]


def test_unknown_meter_policy_autocreate_makes_meter_and_channel(tenant: FakeEnergyCap) -> None:
    tenant.unknown_meter_policy = "autocreate"
    target = {"meterImportId": "NEW", "observationTypeCode": "Use", "unitCode": "kWh"}
    body = [{**one(target), "channelIntervalInSeconds": 1800}]
    assert post(tenant, "/api/v3/reading", body).json()["importedReadingsCount"] == 1
    meters = {m["meterCode"]: m for m in get(tenant, "/api/v3/meter").json()}
    assert meters["NEW"]["channels"][0]["interval"] == 30


BAD_BODIES = {
    "unknown-field": ([{**one({"channelId": 11}), "channelIntervalMinutes": 30}], "unknown field"),
    "misspelled-reading-field": (
        [{"channelId": 11, "readings": [{"timestamp": "2024-01-15T00:30:00Z", "value": 1}]}],
        "unknown field 'timestamp'",
    ),
    "naive-time": ([one({"channelId": 11}, time="2024-01-15T00:30:00")], "no UTC offset"),
    "missing-readings": ([{"channelId": 11}], "[1].readings: required"),
    "missing-value": (
        [{"channelId": 11, "readings": [{"time": "2024-01-15T00:30:00Z"}]}],
        "value: required",
    ),
    "long-code": (
        [one({"meterImportId": "M1", "observationTypeCode": "X" * 17})],
        "17 characters, at most 16",
    ),
    "long-import-id": ([one({"channelImportId": "C" * 256})], "at most 255"),
    "value-as-string": ([one({"channelId": 11}, value="1.5")], "expected a finite number"),
    "channel-id-as-string": ([one({"channelId": "11"})], "expected an integer"),
    "not-an-array": (one({"channelId": 11}), "expected a JSON array"),
    "bad-time": ([one({"channelId": 11}, time="15/01/2024 00:30")], "not an ISO-8601"),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
def test_contract_violations_are_refused_whole_with_400(tenant: FakeEnergyCap, case: str) -> None:
    body, expected = BAD_BODIES[case]
    good = one({"channelId": 12})
    answer = post(tenant, "/api/v3/reading", [good, *body] if isinstance(body, list) else body)
    assert answer.status_code == 400
    assert expected in answer.json()["message"]
    assert expected in tenant.failures[-1].message
    assert tenant.readings().empty


def test_nan_and_wrong_content_type_are_refused(tenant: FakeEnergyCap) -> None:
    raw = '[{"channelId": 11, "readings": [{"time": "2024-01-15T00:30:00Z", "value": NaN}]}]'
    url = tenant.url + "/api/v3/reading"
    as_json = {**KEY, "Content-Type": "application/json"}
    assert requests.post(url, data=raw, headers=as_json, timeout=10).status_code == 400
    as_text = {**KEY, "Content-Type": "text/plain"}
    valid = raw.replace("NaN", "1")
    answer = requests.post(url, data=valid, headers=as_text, timeout=10)
    assert answer.status_code == 415
    assert "application/json" in answer.json()["message"]
    assert tenant.readings().empty


def test_oversized_body_gets_413(tenant: FakeEnergyCap) -> None:
    tenant.max_body_bytes = 200
    readings = [{"time": f"2024-01-15T00:{m:02d}:00Z", "value": 1} for m in range(10)]
    answer = post(tenant, "/api/v3/reading", [{"channelId": 11, "readings": readings}])
    assert answer.status_code == 413
    assert "exceeds 200 bytes" in answer.json()["message"]
    assert tenant.readings().empty


def test_chunked_body_is_read(tenant: FakeEnergyCap) -> None:
    chunks = iter(
        [b'[{"channelId": 11, "readings": ', b'[{"time": "2024-01-15T00:30:00Z", "value": 4}]}]']
    )
    headers = {**KEY, "Content-Type": "application/json"}
    answer = requests.post(tenant.url + "/api/v3/reading", data=chunks, headers=headers, timeout=10)
    assert answer.json()["importedReadingsCount"] == 1
    assert tenant.requests[-1].headers["transfer-encoding"] == "chunked"
    assert tenant.readings()["value"].tolist() == [4.0]


@pytest.mark.parametrize("headers", [{}, {"ECI-ApiKey": "wrong"}], ids=["missing", "wrong"])
def test_bad_key_gets_401_json_and_is_never_recorded(
    tenant: FakeEnergyCap, headers: dict[str, str]
) -> None:
    url = tenant.url + "/api/v3/reading"
    answer = requests.post(url, json=[one({"channelId": 11})], headers=headers, timeout=10)
    assert answer.status_code == 401
    assert "ECI-ApiKey" in answer.json()["message"]
    assert (
        requests.get(tenant.url + "/api/v3/timezone", headers=headers, timeout=10).status_code
        == 401
    )
    assert tenant.readings().empty
    assert "wrong" not in repr(tenant.requests)
    get(tenant, "/api/v3/timezone")
    assert tenant.requests[-1].headers["eci-apikey"] == "<redacted>"
    assert "test-key" not in repr(tenant.requests)


def test_readings_keyed_by_utc_instant_later_write_wins(tenant: FakeEnergyCap) -> None:
    first = [
        {"time": "2024-10-27T01:30:00+01:00", "value": 1.0},
        {"time": "2024-10-27T01:30:00+00:00", "value": 2.0, "estimated": True, "note": "gap"},
    ]
    post(tenant, "/api/v3/reading", [{"channelId": 11, "readings": first}])
    again = [{"time": "2024-10-27T00:30:00Z", "value": 9.0}]
    post(tenant, "/api/v3/reading", [{"channelImportId": "C11", "readings": again}])
    stored = tenant.readings_for(11)
    assert stored["time"].tolist() == [
        pd.Timestamp("2024-10-27T00:30:00Z"),
        pd.Timestamp("2024-10-27T01:30:00Z"),
    ]
    assert stored["value"].tolist() == [9.0, 2.0]
    assert stored["estimated"].tolist() == [False, True]
    assert stored["note"].tolist() == [None, "gap"]
    back = get(tenant, "/api/v3/channel/11/reading?beginDate=2024-10-27&endDate=2024-10-28").json()
    assert [r["time"] for r in back["readings"]] == [
        "2024-10-27T01:30:00+01:00",
        "2024-10-27T01:30:00+00:00",
    ]


def test_per_reading_rejections_fail_only_those_readings(tenant: FakeEnergyCap) -> None:
    tenant.reject_values_above = 100
    tenant.reject_reading = lambda channel, when, value: "negative" if value < 0 else None
    readings = [
        {"time": "2024-01-15T00:30:00Z", "value": 5},
        {"time": "2024-01-15T01:00:00Z", "value": 500},
        {"time": "2024-01-15T01:30:00Z", "value": -1, "note": "odd"},
    ]
    result = post(tenant, "/api/v3/reading", [{"channelId": 11, "readings": readings}]).json()
    assert (result["importedReadingsCount"], result["failedReadingsCount"]) == (1, 2)
    [failed] = result["failedReadings"]
    assert failed["channelId"] == 11
    assert failed["error"] is None
    assert [(r["value"], r["note"]) for r in failed["readings"]] == [(500, None), (-1, "odd")]
    assert "greater than the maximum" in failed["readings"][0]["error"]
    assert failed["readings"][1]["error"] == "negative"
    assert tenant.readings()["value"].tolist() == [5.0]


def test_esa_readings_cascade_and_contract(energycap: FakeEnergyCap) -> None:
    energycap.add_esa_channel(501, "E501", "DP1", "Use", "kWh", 15)
    energycap.add_esa_channel(502, "E502", "DP1", "Use", "kWh", 60)
    energycap.add_esa_channel(503, "E503", "DP1", "Demand", "kW", 15)
    body = [
        one({"esaChannelId": 503}, value=1),
        one({"esaChannelImportId": "E502"}, value=2),
        one({"dataPointImportId": "DP1", "observationTypeCode": "Use", "unitCode": "kWh",
             "esaChannelIntervalMinutes": 15}, value=3),
        one({"dataPointImportId": "DP1", "observationTypeCode": "Use"}, value=4),
    ]  # fmt: skip
    result = post(energycap, "/api/v202407/esaReading", body).json()
    assert result["importedReadingsCount"] == 3
    [failed] = result["failedReadings"]
    assert failed["dataPointImportId"] == "DP1"
    assert "2 channels" in failed["error"]
    assert energycap.readings()[["channel_id", "value"]].values.tolist() == [
        [501, 3.0],
        [502, 2.0],
        [503, 1.0],
    ]
    classic = post(energycap, "/api/v202407/esaReading", [one({"channelId": 501})])
    assert classic.status_code == 400
    assert "unknown field 'channelId'" in classic.json()["message"]
    naive = post(
        energycap, "/api/v202407/esaReading", [one({"esaChannelId": 501}, "2024-01-15T00:30:00")]
    )
    assert naive.status_code == 400
    assert "no UTC offset" in naive.json()["message"]


def test_time_zone_ids_are_not_guessable_and_lookups_answer(tenant: FakeEnergyCap) -> None:
    zones = get(tenant, "/api/v3/timezone").json()
    ids = [z["timeZoneId"] for z in zones]
    assert len(set(ids)) == len(ids) == len(TIME_ZONES)
    assert min(ids) > 100
    assert ids != sorted(ids)
    codes = {z["timeZoneCode"]: z for z in zones}
    assert codes["GMT Standard Time"]["daylightSavingsObserved"] is True
    assert codes["UTC"]["gmtOffset"] == 0 and not codes["UTC"]["daylightSavingsObserved"]
    for code in ("Eastern", "Central", "Mountain", "Pacific"):
        assert f"{code} Standard Time" in codes
    types = [o["observationTypeCode"] for o in get(tenant, "/api/v3/observationtype").json()]
    assert {"Use", "Demand"} <= set(types)
    units = [u["unitCode"] for u in get(tenant, "/api/v202305/unit").json()]
    assert {"kWh", "kW", "kVA"} <= set(units)
    meters = get(tenant, "/api/v3/meter").json()
    assert [m["meterTimeZone"]["timeZoneCode"] for m in meters] == ["GMT Standard Time", "UTC"]
    channels = get(tenant, "/api/v202101/meter/1/channel").json()
    assert [(c["channelImportId"], c["intervalMinutes"]) for c in channels][:2] == [
        ("C11", 30),
        ("C12", 30),
    ]
    assert channels[1]["channelVersions"][0]["unit"]["unitCode"] == "kW"
    assert get(tenant, "/api/v202101/meter/7/channel").status_code == 404
    missing = get(tenant, "/api/v3/no/such/route")
    assert missing.status_code == 404 and "No route" in missing.json()["message"]


def test_meters_are_paged_like_energycap(energycap: FakeEnergyCap) -> None:
    for n in range(1, 106):
        energycap.add_meter(n, f"M{n}", [FakeChannel(1000 + n, None)])
    first = get(energycap, "/api/v3/meter")
    assert len(first.json()) == 100
    assert (first.headers["TotalPages"], first.headers["TotalNumberOfRecords"]) == ("2", "105")
    second = get(energycap, "/api/v3/meter?pageSize=100&pageNumber=2").json()
    assert [m["meterCode"] for m in second] == ["M101", "M102", "M103", "M104", "M105"]
    assert get(energycap, "/api/v3/meter?pageSize=5000").status_code == 400


def test_injected_429_carries_retry_after_then_recovers(tenant: FakeEnergyCap) -> None:
    tenant.inject("/api/v3/reading", status=429, times=2, retry_after=3)
    body = [one({"channelId": 11})]
    for _ in range(2):
        answer = post(tenant, "/api/v3/reading", body)
        assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")
    assert get(tenant, "/api/v3/timezone").status_code == 200
    assert post(tenant, "/api/v3/reading", body).status_code == 200
    assert [r.status for r in tenant.requests] == [429, 429, 200, 200]
    assert tenant.requests[0].json == body
    assert len(tenant.readings()) == 1


def test_injected_503_drop_delay_and_outage(tenant: FakeEnergyCap) -> None:
    body = [one({"channelId": 11})]
    tenant.inject("/api/v3/reading", status=503)
    assert post(tenant, "/api/v3/reading", body).status_code == 503
    tenant.inject("/api/v3/reading", drop=True)
    with pytest.raises(requests.ConnectionError):
        post(tenant, "/api/v3/reading", body)
    assert tenant.readings().empty
    tenant.inject("/api/v3/timezone", status=None, delay_s=0.3)
    started = time.monotonic()
    assert get(tenant, "/api/v3/timezone").status_code == 200
    assert time.monotonic() - started >= 0.3
    tenant.outage("/api/", status=500)
    assert [post(tenant, "/api/v3/reading", body).status_code for _ in range(3)] == [500] * 3
    tenant.clear_faults()
    assert post(tenant, "/api/v3/reading", body).status_code == 200
    assert len(tenant.readings()) == 1
