"""Readings API (classic and ESA) and read-back routes of the fake EnergyCAP."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tests.fakes.energycap_http import Answer, error_answer, json_answer
from tests.fakes.energycap_model import Reading, ResolveError, Target, Tenant
from tests.fakes.energycap_validate import BodyError, parse_time, validate_body

CLASSIC_KEYS = ("channelId", "channelImportId", "meterImportId", "channelIntervalInSeconds")
ESA_KEYS = ("esaChannelId", "esaChannelImportId", "dataPointImportId", "esaChannelIntervalMinutes")


def target_of(item: dict[str, Any], esa: bool) -> Target:
    """The API-neutral target of a ReadingCreate / EsaReadingCreate."""
    ids, interval = (
        (ESA_KEYS, 60 * (item.get(ESA_KEYS[3]) or 0))
        if esa
        else (
            CLASSIC_KEYS,
            item.get(CLASSIC_KEYS[3]) or 0,
        )
    )
    return Target(
        channel_id=item.get(ids[0]),
        channel_import_id=item.get(ids[1]),
        parent_import_id=item.get(ids[2]),
        observation_type=item.get("observationTypeCode"),
        unit=item.get("unitCode"),
        interval_s=interval or None,
    )


def post_readings(tenant: Tenant, body: Any, *, esa: bool) -> Answer:
    """POST /api/v3/reading or /api/v202407/esaReading: validate, resolve, store.

    Raises:
        BodyError: when the body breaks the contract (the whole request is refused).
    """
    validate_body("EsaReadingCreate" if esa else "ReadingCreate", body)
    imported, failed = 0, []
    times: dict[str, datetime] = {}  # each distinct time text parsed once per request
    for item in body:
        try:
            target = target_of(item, esa)
            channel_id = (
                tenant.resolve_esa(target).esa_channel_id
                if esa
                else tenant.resolve(target).channel_id
            )
        except ResolveError as error:
            bad = [(r, str(error)) for r in item["readings"]]
            failed.append(_failed_entry(item, esa, str(error), bad))
            continue
        count, bad = _store(tenant, channel_id, item["readings"], times)
        imported += count
        if bad:
            failed.append(_failed_entry(item, esa, None, bad))
    return json_answer(
        {
            "importedReadingsCount": imported,
            "failedReadingsCount": sum(len(f["readings"]) for f in failed),
            "failedReadings": failed,
        }
    )


def _store(
    tenant: Tenant, channel_id: int, readings: list[dict[str, Any]], times: dict[str, datetime]
) -> tuple[int, list[tuple[dict[str, Any], str]]]:
    bad: list[tuple[dict[str, Any], str]] = []
    kept: list[tuple[datetime, Reading]] = []
    checked = tenant.reject_values_above is not None or tenant.reject_reading is not None
    for reading in readings:
        text = reading["time"]
        when = times.get(text)
        if when is None:
            when = times[text] = parse_time(text).astimezone(UTC)
        value = float(reading["value"])
        refused = tenant.rejection(channel_id, when, value) if checked else None
        if refused:
            bad.append((reading, refused))
            continue
        get = reading.get
        kept.append((when, Reading(value, bool(get("estimated") or False), get("note"))))
    tenant.store_readings(channel_id, kept)
    return len(kept), bad


def _failed_entry(
    item: dict[str, Any], esa: bool, error: str | None, bad: list[tuple[dict[str, Any], str]]
) -> dict[str, Any]:
    keys = (*(ESA_KEYS if esa else CLASSIC_KEYS), "observationTypeCode", "unitCode")
    entry: dict[str, Any] = {k: item.get(k) for k in keys}
    entry["readings"] = [
        {
            "time": r["time"],
            "value": r["value"],
            "estimated": r.get("estimated"),
            "note": r.get("note"),
            "error": why,
        }
        for r, why in bad
    ]
    entry["error"] = error
    return entry


def get_channel_readings(tenant: Tenant, channel_id: int, query: dict[str, list[str]]) -> Answer:
    """GET /api/v3/channel/{id}/reading?beginDate=&endDate= (times in the meter's zone)."""
    channel = tenant.channel(channel_id)
    esa = tenant.esa_channels.get(channel_id)
    if channel is None and esa is None:
        return error_answer(404, f"Channel {channel_id} not found")
    meter = tenant.meter_of(channel_id)
    zone = meter.zone.zone if meter else UTC
    try:
        begin = _query_time(query, "beginDate", zone)
        end = _query_time(query, "endDate", zone)
    except ValueError as error:
        raise BodyError([str(error)]) from None
    unit = channel.unit if channel else esa.unit if esa else ""
    rows = _observations(tenant, channel_id, zone, begin, end)
    return json_answer(
        {"channelId": channel_id, "rule": 2, "unit": {"unitCode": unit}, "readings": rows}
    )


def _observations(
    tenant: Tenant, channel_id: int, zone: Any, begin: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    frame = tenant.frame(channel_id)
    columns = (frame["time"], frame["value"], frame["estimated"], frame["note"])
    rows = []
    for n, (t, v, e, note) in enumerate(zip(*columns, strict=True), start=1):
        if (begin is None or t >= begin) and (end is None or t <= end):
            local = t.to_pydatetime().astimezone(zone).isoformat()
            rows.append(
                {"observationId": n, "time": local, "value": v, "rawValue": v, "estimated": e}
                | {"note": note}
            )
    return rows


def _query_time(query: dict[str, list[str]], name: str, zone: Any) -> datetime | None:
    if name not in query:
        return None
    # parse_qs turned an unescaped "+" of the offset into a space
    text = re.sub(r" (\d\d:?\d\d)$", r"+\1", query[name][0].strip())
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=zone)
