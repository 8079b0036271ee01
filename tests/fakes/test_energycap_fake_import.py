"""The fake EnergyCAP's Import API: profiles interpreted as EnergyCAP would, tasks, errors."""

from __future__ import annotations

import base64
import time
from typing import Any

import pandas as pd
import pytest
import requests

from tests.fakes.energycap import FAILED, PARTIAL, SUCCEEDED, FakeChannel, FakeEnergyCap

KEY = {"ECI-ApiKey": "test-key"}


def zone_id(fake: FakeEnergyCap, code: str) -> int:
    zones = requests.get(fake.url + "/api/v3/timezone", headers=KEY, timeout=10).json()
    return next(z["timeZoneId"] for z in zones if z["timeZoneCode"] == code)


def profile(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "delimiter": ",",
        "numberOfHeaderRows": 1,
        "numberOfColumns": 3,
        "channelImportIdColumnNumber": 1,
        "timestampColumnNumber": 2,
        "timestampFormat": "yyyy-MM-dd HH:mm",
        "dataMapping": [{"columnNumber": 3, "observationTypeCode": "Use", "unitCode": "kWh"}],
    }
    return {**base, **fields}


def start(
    fake: FakeEnergyCap, text: str, prof: dict[str, Any] | None, **extra: Any
) -> requests.Response:
    body = {"data": base64.b64encode(text.encode()).decode(), **extra}
    if prof is not None:
        body["inlineProfile"] = prof
    return requests.post(fake.url + "/api/v3/import/reading", json=body, headers=KEY, timeout=10)


def finish(fake: FakeEnergyCap, answer: requests.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    guid = answer.json()["taskGUId"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        task = requests.get(f"{fake.url}/api/v3/task/{guid}", headers=KEY, timeout=10).json()
        if task["endDate"] is not None:
            return task
        time.sleep(0.02)
    raise AssertionError("the import task did not end")


def error_output(fake: FakeEnergyCap, task: dict[str, Any]) -> str:
    url = f"{fake.url}/api/v3/task/{task['taskGUId']}/errorOutput"
    return requests.get(url, headers=KEY, timeout=10).text


def stored(fake: FakeEnergyCap) -> list[tuple[str, float]]:
    frame = fake.readings()
    return [
        (t.strftime("%Y-%m-%dT%H:%MZ"), v)
        for t, v in zip(frame["time"], frame["value"], strict=True)
    ]


@pytest.fixture
def us_meter(energycap: FakeEnergyCap) -> FakeEnergyCap:
    energycap.add_meter(1, "M1", [FakeChannel(11, "C1", "Use", "kWh", 3600)], "America/New_York")
    return energycap


FALL_BACK_US = (
    "id,time,kwh\r\n"
    "C1,2024-11-03 00:00,1\r\n"
    "C1,2024-11-03 01:00,2\r\n"
    "C1,2024-11-03 01:00,3\r\n"
    "C1,2024-11-03 02:00,4\r\n"
)


def test_us_fall_back_naive_times_in_profile_zone_repeat_hour_taken_as_standard(
    us_meter: FakeEnergyCap,
) -> None:
    us_meter.tenant.meters[1].time_zone = "UTC"  # the profile's zone must win over the meter's
    eastern = zone_id(us_meter, "Eastern Standard Time")
    task = finish(us_meter, start(us_meter, FALL_BACK_US, profile(timeZoneId=eastern)))
    assert (task["status"], task["currentSuccessCount"]) == (SUCCEEDED, 4)
    # .NET ConvertTimeToUtc: an ambiguous local time is standard time, so 01:00 EDT is lost.
    assert stored(us_meter) == [
        ("2024-11-03T04:00Z", 1.0),
        ("2024-11-03T06:00Z", 3.0),
        ("2024-11-03T07:00Z", 4.0),
    ]


def test_us_fall_back_with_zzz_offsets_keeps_both_repeated_hours(us_meter: FakeEnergyCap) -> None:
    text = FALL_BACK_US.replace(",1\r", "-04:00,1\r").replace(",2\r", "-04:00,2\r")
    text = text.replace(",3\r", "-05:00,3\r").replace(",4\r", "-05:00,4\r")
    prof = profile(timestampFormat="yyyy-MM-dd HH:mmzzz", timeZoneId=zone_id(us_meter, "UTC"))
    task = finish(us_meter, start(us_meter, text, prof))
    assert task["status"] == SUCCEEDED
    assert stored(us_meter) == [
        ("2024-11-03T04:00Z", 1.0),
        ("2024-11-03T05:00Z", 2.0),
        ("2024-11-03T06:00Z", 3.0),
        ("2024-11-03T07:00Z", 4.0),
    ]


def test_london_spring_gap_row_fails_and_is_named(energycap: FakeEnergyCap) -> None:
    energycap.add_meter(2, "M2", [FakeChannel(21, "UK1", "Use", "kWh", 1800)], "UTC")
    text = "id,time,kwh\nUK1,31/03/2024 00:30,1\nUK1,31/03/2024 01:30,2\nUK1,31/03/2024 02:30,3\n"
    prof = profile(
        timestampFormat="dd/MM/yyyy HH:mm", timeZoneId=zone_id(energycap, "GMT Standard Time")
    )
    task = finish(energycap, start(energycap, text, prof))
    assert (task["status"], task["currentSuccessCount"]) == (PARTIAL, 2)
    assert stored(energycap) == [("2024-03-31T00:30Z", 1.0), ("2024-03-31T01:30Z", 3.0)]
    errors = error_output(energycap, task)
    assert "Line 3:" in errors and "does not exist in GMT Standard Time" in errors
    assert "UK1,31/03/2024 01:30,2" in errors


@pytest.mark.parametrize(
    ("fmt", "bst", "gmt"),
    [("yyyy-MM-dd'T'HH:mm:sszzz", "+01:00", "+00:00"), ("yyyy-MM-ddTHH:mm:ssK", "+01:00", "Z")],
    ids=["zzz", "K"],
)
def test_london_autumn_in_meter_zone_and_with_offsets(
    energycap: FakeEnergyCap, fmt: str, bst: str, gmt: str
) -> None:
    energycap.add_meter(2, "M2", [FakeChannel(21, "UK1", "Use", "kWh", 1800)], "Europe/London")
    naive = "id,time,kwh\nUK1,2024-10-27T00:30,1\nUK1,2024-10-27T02:00,2\n"
    finish(energycap, start(energycap, naive, profile(timestampFormat="yyyy-MM-dd'T'HH:mm")))
    offsets = f"h\nUK1,2024-10-27T01:30:00{bst},3\nUK1,2024-10-27T01:30:00{gmt},4\n"
    task = finish(energycap, start(energycap, offsets, profile(timestampFormat=fmt)))
    assert task["status"] == SUCCEEDED
    assert stored(energycap) == [
        ("2024-10-26T23:30Z", 1.0),
        ("2024-10-27T00:30Z", 3.0),
        ("2024-10-27T01:30Z", 4.0),
        ("2024-10-27T02:00Z", 2.0),
    ]


def test_date_and_time_columns_several_values_estimated_note_and_bad_rows(
    energycap: FakeEnergyCap,
) -> None:
    energycap.add_meter(
        3,
        "SITE",
        [FakeChannel(31, None, "Use", "kWh", 900), FakeChannel(32, None, "Demand", "kW", 900)],
        "America/Chicago",
    )
    rows = [
        "Export of site data",
        "meter\tdate\ttime\tkwh\tkw\tflag\tnote",
        "SITE\t3/10/2024\t1:45 AM\t10.5\t42\tE\tcopied",
        "SITE\t3/10/2024\t3:00 AM\t\t40\t\t",
        "SITE\t3/10/2024\t3:15 AM\t1,234.5\t41\t\t",
        "SITE\t3/10/2024\t3:30 AM",
        "SITE\t3/10/2024\t3:45 PM\t7\t\tA\t",
    ]
    prof = {
        "delimiter": "\\t",
        "numberOfHeaderRows": 2,
        "numberOfColumns": 5,
        "meterImportIdColumnNumber": 1,
        "dateColumnNumber": 2,
        "dateFormat": "M/d/yyyy",
        "timeColumnNumber": 3,
        "timeFormat": "h:mm tt",
        "channelIntervalInSeconds": 900,
        "dataMapping": [
            {"columnNumber": 4, "observationTypeCode": "Use", "unitCode": "kWh"},
            {"columnNumber": 5, "observationTypeCode": "Demand", "unitCode": "kW"},
        ],
        "estimated": {"columnNumber": 6, "indicator": "E"},
        "noteColumnNumber": 7,
    }
    task = finish(energycap, start(energycap, "\n".join(rows), prof))
    assert (task["status"], task["currentSuccessCount"]) == (PARTIAL, 4)
    frame = energycap.readings()
    assert frame["channel_id"].tolist() == [31, 31, 32, 32]
    assert frame["time"].tolist() == [
        pd.Timestamp("2024-03-10T07:45Z"),  # CST, -6
        pd.Timestamp("2024-03-10T20:45Z"),  # CDT, -5
        pd.Timestamp("2024-03-10T07:45Z"),
        pd.Timestamp("2024-03-10T08:00Z"),
    ]
    assert frame["value"].tolist() == [10.5, 7.0, 42.0, 40.0]
    assert frame["estimated"].tolist() == [True, False, True, False]
    assert frame["note"].tolist() == ["copied", None, "copied", None]
    errors = error_output(energycap, task).splitlines()
    assert len(errors) == 2
    assert errors[0].startswith("Line 5: column 4: value '1,234.5' is not a number")
    assert errors[1].startswith("Line 6: 3 columns, the profile needs at least 5")


def test_auto_create_channels(energycap: FakeEnergyCap) -> None:
    energycap.add_meter(4, "EMPTY", [], "UTC")
    text = "h\nEMPTY,2024-01-01 00:15,1\n"
    prof = profile(meterImportIdColumnNumber=1, channelImportIdColumnNumber=None)
    prof["channelIntervalInSeconds"] = 900
    task = finish(energycap, start(energycap, text, prof))
    assert task["status"] == FAILED
    assert "No channel on meter 'EMPTY'" in error_output(energycap, task)
    task = finish(energycap, start(energycap, text, prof, autoCreateChannels=True))
    assert task["status"] == SUCCEEDED
    [channel] = energycap.tenant.meters[4].channels
    assert (channel.observation_type, channel.unit, channel.interval_s) == ("Use", "kWh", 900)
    assert energycap.readings()["channel_id"].tolist() == [channel.channel_id]


def test_task_runs_asynchronously(us_meter: FakeEnergyCap) -> None:
    us_meter.task_delay_s = 0.3
    answer = start(us_meter, FALL_BACK_US, profile(), importNote="nightly")
    guid = answer.json()["taskGUId"]
    running = requests.get(f"{us_meter.url}/api/v3/task/{guid}", headers=KEY, timeout=10).json()
    assert (running["status"], running["endDate"], running["taskNote"]) == (
        "Running",
        None,
        "nightly",
    )
    assert us_meter.readings().empty
    done = finish(us_meter, answer)
    assert done["status"] == SUCCEEDED and done["endDate"] >= done["beginDate"]
    missing = requests.get(f"{us_meter.url}/api/v3/task/{'0' * 8}", headers=KEY, timeout=10)
    assert missing.status_code == 404


BAD_REQUESTS = {
    "no-profile": ({}, "exactly one of profileCode and inlineProfile"),
    "unknown-profile-field": ({"inlineProfile": profile(timezone=3)}, "unknown field 'timezone'"),
    "missing-columns": (
        {"inlineProfile": {k: v for k, v in profile().items() if k != "numberOfColumns"}},
        "numberOfColumns: required",
    ),
    "bad-zone": ({"inlineProfile": profile(timeZoneId=1)}, "timeZoneId 1 is not a time zone"),
    "no-time": ({"inlineProfile": profile(timestampFormat=None)}, "give timestampColumnNumber"),
    "bad-delimiter": ({"inlineProfile": profile(delimiter=";")}, "delimiter ';'"),
    "mapping-code": (
        {"inlineProfile": profile(dataMapping=[{"columnNumber": 3, "unitCode": "kWh"}])},
        "observationTypeCode: required",
    ),
    "unknown-code": ({"profileCode": "nope"}, "profileCode 'nope' does not name"),
    "not-base64": ({"inlineProfile": profile(), "data": "%%%"}, "not base64"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_import_requests_get_400(us_meter: FakeEnergyCap, case: str) -> None:
    extra, expected = BAD_REQUESTS[case]
    body = {"data": base64.b64encode(FALL_BACK_US.encode()).decode(), **extra}
    answer = requests.post(
        us_meter.url + "/api/v3/import/reading", json=body, headers=KEY, timeout=10
    )
    assert answer.status_code == 400
    assert expected in answer.json()["message"]
    assert us_meter.tasks() == []


def test_stored_profiles_crud_and_import_by_code(us_meter: FakeEnergyCap) -> None:
    url = us_meter.url + "/api/v3/import/reading/profile"
    eastern = zone_id(us_meter, "Eastern Standard Time")
    created = requests.post(
        url, json=profile(profileCode="HOURLY", timeZoneId=eastern), headers=KEY, timeout=10
    )
    assert created.status_code == 200, created.text
    profile_id = created.json()["profileId"]
    assert created.json()["timeZone"]["timeZoneCode"] == "Eastern Standard Time"
    again = requests.post(url, json=profile(profileCode="HOURLY"), headers=KEY, timeout=10)
    assert again.status_code == 400 and "already used" in again.json()["message"]
    changed = profile(profileCode="HOURLY", timestampFormat="yyyy-MM-dd HH:mm", timeZoneId=None)
    assert (
        requests.put(f"{url}/{profile_id}", json=changed, headers=KEY, timeout=10).status_code
        == 200
    )
    listed = requests.get(url, headers=KEY, timeout=10).json()
    assert [(p["profileId"], p["profileCode"], p["timeZone"]) for p in listed] == [
        (profile_id, "HOURLY", None)
    ]
    task = finish(us_meter, start(us_meter, FALL_BACK_US, None, profileCode="HOURLY"))
    assert task["status"] == SUCCEEDED
    assert stored(us_meter)[0] == ("2024-11-03T04:00Z", 1.0)  # in the meter's zone, EDT
    assert requests.delete(f"{url}/{profile_id}", headers=KEY, timeout=10).status_code == 200
    assert requests.get(f"{url}/{profile_id}", headers=KEY, timeout=10).status_code == 404
