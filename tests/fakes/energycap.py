"""A fake EnergyCAP on loopback that validates what meterbridge sends against the contract.

Usage::

    with FakeEnergyCap(api_key="test-key") as fake:
        fake.add_meter(meter_id=1, import_id="M1", time_zone="Europe/London",
                       channels=[FakeChannel(11, "C11", "Use", "kWh", 1800)])
        requests.post(f"{fake.url}/api/v3/reading", json=[...],
                      headers={"ECI-ApiKey": "test-key"})
        fake.readings()  # channel_id, time (UTC), value, estimated, note

See docs/reference/testing-fakes.md for the routes, status strings and choices.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from tests.fakes.energycap_http import Answer, HttpFake, error_answer, json_answer
from tests.fakes.energycap_model import (
    FakeChannel,
    FakeEsaChannel,
    FakeMeter,
    ReadingRule,
    Tenant,
)
from tests.fakes.energycap_readings import get_channel_readings, post_readings
from tests.fakes.energycap_tasks import ENDED, FAILED, PARTIAL, RUNNING, SUCCEEDED, ImportService
from tests.fakes.energycap_tz import TIME_ZONES
from tests.fakes.energycap_validate import BodyError

__all__ = [
    "ENDED",
    "FAILED",
    "PARTIAL",
    "RUNNING",
    "SUCCEEDED",
    "FakeChannel",
    "FakeEnergyCap",
    "FakeEsaChannel",
    "FakeMeter",
]

OBSERVATION_TYPES = ("Use", "Demand", "Temperature", "Humidity", "Flow", "Volume", "Power Factor")
UNITS = ("kWh", "kW", "MWh", "kVArh", "kVAr", "therms", "CCF", "m3", "gal", "degF", "degC", "%")

Handler = Callable[["FakeEnergyCap", re.Match[str], dict[str, list[str]], Any], Answer]


class FakeEnergyCap(HttpFake):
    """The fake server. Set-up methods may be called before or after `start()`."""

    def __init__(self, api_key: str = "test-key") -> None:
        super().__init__(api_key)
        self.tenant = Tenant()
        self.imports = ImportService(self.tenant)

    def __enter__(self) -> FakeEnergyCap:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Let running import tasks end, then stop serving."""
        self.imports.wait()
        super().stop()

    # -- tenant set-up --------------------------------------------------------------------------
    def add_meter(
        self,
        meter_id: int,
        import_id: str | None,
        channels: list[FakeChannel] | None = None,
        time_zone: str = "UTC",
    ) -> FakeMeter:
        """Add a meter (time_zone: IANA name or EnergyCAP code of the fake's zone list)."""
        return self.tenant.add_meter(
            FakeMeter(meter_id, import_id, list(channels or []), time_zone)
        )

    def add_esa_channel(
        self,
        esa_channel_id: int,
        import_id: str | None = None,
        data_point_import_id: str | None = None,
        observation_type: str = "Use",
        unit: str = "kWh",
        interval_minutes: int = 15,
    ) -> FakeEsaChannel:
        """Add an ESA channel; its id must not clash with a classic channel's."""
        channel = FakeEsaChannel(
            esa_channel_id,
            import_id,
            data_point_import_id,
            observation_type,
            unit,
            interval_minutes,
        )
        return self.tenant.add_esa_channel(channel)

    @property
    def unknown_meter_policy(self) -> str:
        """ "fail" (default): unknown meterImportId → failedReadings; "autocreate": create it."""
        return self.tenant.unknown_meter_policy

    @unknown_meter_policy.setter
    def unknown_meter_policy(self, policy: str) -> None:
        if policy not in ("fail", "autocreate"):
            raise ValueError("unknown_meter_policy is 'fail' or 'autocreate'")
        self.tenant.unknown_meter_policy = policy

    @property
    def reject_values_above(self) -> float | None:
        """Readings with a greater value are refused one by one (None: no limit)."""
        return self.tenant.reject_values_above

    @reject_values_above.setter
    def reject_values_above(self, limit: float | None) -> None:
        self.tenant.reject_values_above = limit

    @property
    def reject_reading(self) -> ReadingRule | None:
        """A predicate (channel_id, utc time, value) -> error text or None."""
        return self.tenant.reject_reading

    @reject_reading.setter
    def reject_reading(self, rule: ReadingRule | None) -> None:
        self.tenant.reject_reading = rule

    @property
    def task_delay_s(self) -> float:
        """How long an import task stays "Running" before it works (default 0.05 s)."""
        return self.imports.task_delay_s

    @task_delay_s.setter
    def task_delay_s(self, seconds: float) -> None:
        self.imports.task_delay_s = seconds

    # -- inspection -----------------------------------------------------------------------------
    def readings(self) -> pd.DataFrame:
        """Stored readings: channel_id, time (UTC aware), value, estimated, note; sorted."""
        return self.tenant.frame()

    def readings_for(self, channel_id: int) -> pd.DataFrame:
        """One channel's stored readings (classic or ESA), same columns."""
        return self.tenant.frame(channel_id)

    def tasks(self) -> list[dict[str, Any]]:
        """Every import task as TaskResponse JSON, oldest first."""
        return [t.as_json() for t in self.imports.tasks.values()]

    def error_output(self, guid: str) -> str:
        """The error output text of an import task."""
        return self.imports.tasks[guid].error_output

    def wait_tasks(self, timeout_s: float = 10.0) -> None:
        """Block until every import task started so far has ended."""
        self.imports.wait(timeout_s)

    # -- routing --------------------------------------------------------------------------------
    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Answer:
        """Dispatch one authenticated request."""
        for verb, pattern, handler in ROUTES:
            match = pattern.fullmatch(path.rstrip("/") or "/")
            if match and verb == method:
                return handler(self, match, query, body)
        known = any(p.fullmatch(path.rstrip("/")) for _, p, _ in ROUTES)
        status = 405 if known else 404
        return error_answer(status, f"No route for {method} {path}")


def _readings(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return post_readings(fake.tenant, body, esa=False)


def _esa(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return post_readings(fake.tenant, body, esa=True)


def _read_back(fake: FakeEnergyCap, m: re.Match[str], q: dict[str, list[str]], body: Any) -> Answer:
    return get_channel_readings(fake.tenant, int(m["id"]), q)


def _time_zones(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return json_answer([z.as_json() for z in TIME_ZONES])


def _observation_types(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return json_answer([_observation_type(code) for code in _codes(fake, "observation_type")])


def _observation_type(code: str) -> dict[str, Any]:
    return {
        "observationTypeId": 30 + _stable_index(code),
        "observationTypeCode": code,
        "observationTypeInfo": code,
    }


def _units(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return json_answer([_unit(code) for code in _codes(fake, "unit")])


def _unit(code: str) -> dict[str, Any]:
    return {"unitId": 200 + _stable_index(code), "unitCode": code, "unitInfo": code}


def _codes(fake: FakeEnergyCap, attribute: str) -> list[str]:
    base = OBSERVATION_TYPES if attribute == "observation_type" else UNITS
    used = [getattr(c, attribute) for m in fake.tenant.meters.values() for c in m.channels]
    used += [getattr(c, attribute) for c in fake.tenant.esa_channels.values()]
    return list(dict.fromkeys([*base, *used]))


def _stable_index(code: str) -> int:
    both = (*OBSERVATION_TYPES, *UNITS)
    return both.index(code) if code in both else 500 + sum(map(ord, code))


def _meters(fake: FakeEnergyCap, m: re.Match[str], q: dict[str, list[str]], body: Any) -> Answer:
    meters = [_meter_json(meter) for meter in fake.tenant.meters.values()]
    return paged(meters, q)


def paged(items: list[dict[str, Any]], query: dict[str, list[str]]) -> Answer:
    """One page of a list, with EnergyCAP's paging headers (pageSize default 100, max 1000).

    Raises:
        BodyError: for a page size or number that is not a positive integer (or > 1000).
    """
    try:
        size = int(query.get("pageSize", ["100"])[0])
        number = int(query.get("pageNumber", ["1"])[0])
    except ValueError:
        raise BodyError(["pageSize and pageNumber must be integers"]) from None
    if not (1 <= size <= 1000 and number >= 1):
        raise BodyError(["pageSize must be 1..1000 and pageNumber at least 1"])
    answer = json_answer(items[(number - 1) * size : number * size])
    answer.headers.update(
        {
            "PageNumber": str(number),
            "PageSize": str(size),
            "TotalPages": str(max(1, -(-len(items) // size))),
            "TotalNumberOfRecords": str(len(items)),
        }
    )
    return answer


def _meter_json(meter: FakeMeter) -> dict[str, Any]:
    return {
        "meterId": meter.meter_id,
        "meterCode": meter.import_id or f"METER{meter.meter_id}",
        "meterInfo": f"Meter {meter.meter_id}",
        "active": True,
        "meterTimeZone": meter.zone.child(),
        "channels": [
            {
                "channelId": c.channel_id,
                "channelCode": channel_code(c),
                "interval": c.interval_s // 60,
            }
            for c in meter.channels
        ],
    }


# The fake's own observation method and rule codes (tenants name theirs; a reader of
# the channel code must not rely on these two parts).
CHANNEL_METHOD, CHANNEL_RULE = "Meter", "Interval"


def channel_code(c: FakeChannel) -> str:
    """The list's channel code as the SDK documents it (``ChannelChild.channelCode``).

    ``observationTypeCode:unitCode:observationMethodCode:observationRuleCode:interval``
    with the interval in minutes.
    """
    return f"{c.observation_type}:{c.unit}:{CHANNEL_METHOD}:{CHANNEL_RULE}:{c.interval_s // 60}"


def _meter_channels(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    meter = fake.tenant.meters.get(int(m["id"]))
    if meter is None:
        return error_answer(404, f"Meter {m['id']} not found")
    return json_answer([_channel_json(fake, meter, c) for c in meter.channels])


def _channel_json(fake: FakeEnergyCap, meter: FakeMeter, c: FakeChannel) -> dict[str, Any]:
    times = fake.readings_for(c.channel_id)["time"]
    return {
        "channelId": c.channel_id,
        "intervalMinutes": c.interval_s // 60,
        "observationType": _observation_type(c.observation_type),
        "channelDescription": None,
        "channelImportId": c.import_id,
        "hasReadings": bool(len(times)),
        "firstReadingDate": times.min().isoformat() if len(times) else None,
        "lastReadingDate": times.max().isoformat() if len(times) else None,
        "channelVersions": [
            {"channelVersionId": c.channel_id * 10, "multiplier": 1.0, "unit": _unit(c.unit)}
        ],
        "meter": {
            "meterId": meter.meter_id,
            "meterCode": meter.import_id or f"METER{meter.meter_id}",
            "meterImportId": meter.import_id,
        },
    }


def _import(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return fake.imports.start_import(body)


def _task(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return fake.imports.task_answer(m["guid"], error_output=bool(m["error"]))


def _profiles(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return json_answer([fake.imports.profile_json(k) for k in sorted(fake.imports.profiles)])


def _new_profile(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return fake.imports.save_profile(body, None)


def _profile(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    profile_id = int(m["id"])
    if profile_id not in fake.imports.profiles:
        return error_answer(404, f"Reading import profile {profile_id} not found")
    return json_answer(fake.imports.profile_json(profile_id))


def _put_profile(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    return fake.imports.save_profile(body, int(m["id"]))


def _delete_profile(fake: FakeEnergyCap, m: re.Match[str], q: Any, body: Any) -> Answer:
    if fake.imports.profiles.pop(int(m["id"]), None) is None:
        return error_answer(404, f"Reading import profile {m['id']} not found")
    return Answer(200)


_PROFILE = r"/api/v3/import/reading/profile/(?P<id>\d+)"
ROUTES: tuple[tuple[str, re.Pattern[str], Handler], ...] = tuple(
    (verb, re.compile(pattern, re.IGNORECASE), handler)
    for verb, pattern, handler in (
        ("POST", r"/api/v3/reading", _readings),
        ("POST", r"/api/v202407/esaReading", _esa),
        ("GET", r"/api/v3/channel/(?P<id>\d+)/reading", _read_back),
        ("GET", r"/api/v3/timezone", _time_zones),
        ("GET", r"/api/v3/observationtype", _observation_types),
        ("GET", r"/api/v202305/unit", _units),
        ("GET", r"/api/v3/meter", _meters),
        ("GET", r"/api/v202101/meter/(?P<id>\d+)/channel", _meter_channels),
        ("POST", r"/api/v3/import/reading", _import),
        ("GET", r"/api/v3/task/(?P<guid>[0-9a-fA-F-]+)(?P<error>/errorOutput)?", _task),
        ("GET", r"/api/v3/import/reading/profile", _profiles),
        ("POST", r"/api/v3/import/reading/profile", _new_profile),
        ("GET", _PROFILE, _profile),
        ("PUT", _PROFILE, _put_profile),
        ("DELETE", _PROFILE, _delete_profile),
    )
)
