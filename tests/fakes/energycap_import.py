"""Import API: profiles checked and interpreted as EnergyCAP would, and import tasks.

Times without an offset are taken in the profile's time zone (timeZoneId),
else in the meter's. Like .NET's TimeZoneInfo.ConvertTimeToUtc, an ambiguous
local time (the repeated hour of an autumn clock change) is taken as
standard time, and a local time inside the spring gap is an error.
"""

from __future__ import annotations

import base64
import binascii
import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.energycap_dotnet import DotNetFormat, FormatError, compile_format, parse_datetime
from tests.fakes.energycap_model import FakeChannel, Reading, ResolveError, Target, Tenant
from tests.fakes.energycap_tz import FakeTimeZone, zone_by_id
from tests.fakes.energycap_validate import BodyError

DELIMITERS = {",": ",", "\t": "\t", "\\t": "\t", " ": " "}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class RowError(ValueError):
    """One data row that cannot be imported."""


@dataclass
class Profile:
    """A checked ReadingImportProfile, ready to read rows."""

    raw: dict[str, Any]
    delimiter: str
    stamp: DotNetFormat | None
    date: DotNetFormat | None
    time: DotNetFormat | None
    zone: FakeTimeZone | None

    def col(self, name: str) -> int | None:
        """A 1-based column number of the profile, or None."""
        value = self.raw.get(name)
        return int(value) if value is not None else None


def check_profile(raw: dict[str, Any]) -> Profile:
    """The semantic checks EnergyCAP makes on a profile (after the SDK model checks).

    Raises:
        BodyError: naming each problem.
    """
    problems: list[str] = []
    delimiter = DELIMITERS.get(raw.get("delimiter", ""))
    if delimiter is None:
        problems.append(f"delimiter {raw.get('delimiter')!r} is not one of ',', '\\t', ' '")
    keys = ("timestampFormat", "dateFormat", "timeFormat")
    formats = {k: _format(raw, k, problems) for k in keys}
    has_stamp = raw.get("timestampColumnNumber") is not None and formats["timestampFormat"]
    has_split = all(raw.get(k) is not None for k in ("dateColumnNumber", "timeColumnNumber")) and (
        formats["dateFormat"] and formats["timeFormat"]
    )
    if not (has_stamp or has_split):
        problems.append(
            "give timestampColumnNumber + timestampFormat, or dateColumnNumber + dateFormat "
            "+ timeColumnNumber + timeFormat"
        )
    problems += _column_problems(raw)
    zone = zone_by_id(raw["timeZoneId"]) if raw.get("timeZoneId") is not None else None
    if raw.get("timeZoneId") is not None and zone is None:
        problems.append(f"timeZoneId {raw['timeZoneId']} is not a time zone of this tenant")
    if problems:
        raise BodyError(problems)
    assert delimiter is not None
    split = (None, None) if has_stamp else (formats["dateFormat"], formats["timeFormat"])
    stamp = formats["timestampFormat"] if has_stamp else None
    return Profile(raw, delimiter, stamp, split[0], split[1], zone)


def _column_problems(raw: dict[str, Any]) -> list[str]:
    problems = []
    ids = ("channelImportIdColumnNumber", "meterImportIdColumnNumber")
    if all(raw.get(k) is None for k in ids):
        problems.append("give channelImportIdColumnNumber or meterImportIdColumnNumber")
    if not raw.get("dataMapping"):
        problems.append("dataMapping needs at least one column")
    elif any(m.get("columnNumber") is None for m in raw["dataMapping"]):
        problems.append("every dataMapping entry needs its columnNumber")
    return problems


def _format(raw: dict[str, Any], key: str, problems: list[str]) -> DotNetFormat | None:
    if not raw.get(key):
        return None
    try:
        return compile_format(raw[key])
    except FormatError as error:
        problems.append(f"{key}: {error}")
        return None


def decode_data(data: str) -> str:
    """The text of the request's base64 `data`.

    Raises:
        BodyError: when it is not base64 of UTF-8 text.
    """
    try:
        return base64.b64decode(data, validate=True).decode("utf-8-sig")
    except (binascii.Error, ValueError) as error:
        raise BodyError([f"data: not base64 of UTF-8 text ({error})"]) from None


@dataclass
class ImportOutcome:
    """What one import did."""

    rows: int = 0
    imported: int = 0
    errors: list[str] = field(default_factory=list)


def run_import(tenant: Tenant, text: str, profile: Profile, *, auto_create: bool) -> ImportOutcome:
    """Read every data row of `text` with `profile`; good rows are stored, bad ones listed."""
    outcome = ImportOutcome()
    lines = text.splitlines()
    rows = csv.reader(lines, delimiter=profile.delimiter, skipinitialspace=profile.delimiter == " ")
    skip = int(profile.raw["numberOfHeaderRows"])
    for number, row in enumerate(rows, start=1):
        if number <= skip or not any(cell.strip() for cell in row):
            continue
        outcome.rows += 1
        try:
            readings = read_row(tenant, row, profile, auto_create)
        except RowError as error:
            outcome.errors.append(f"Line {number}: {error} | {lines[number - 1]}")
            continue
        for channel_id, time, reading in readings:
            tenant.store_reading(channel_id, time, reading)
        outcome.imported += len(readings)
    return outcome


def read_row(
    tenant: Tenant, row: list[str], profile: Profile, auto_create: bool
) -> list[tuple[int, datetime, Reading]]:
    """The readings of one data row (all or nothing).

    Raises:
        RowError: naming the column and value at fault.
    """
    wanted = int(profile.raw["numberOfColumns"])
    if len(row) < wanted:
        raise RowError(f"{len(row)} columns, the profile needs at least {wanted}")
    local, offset = _row_time(row, profile)
    estimated = _estimated(row, profile)
    note_col = profile.col("noteColumnNumber")
    note = _cell(row, note_col) if note_col else ""
    out = []
    for mapping in profile.raw["dataMapping"]:
        column = int(mapping["columnNumber"])
        cell = _cell(row, column)
        if cell == "":
            continue
        if not _NUMBER.match(cell):
            raise RowError(f"column {column}: value '{cell}' is not a number")
        channel = _channel(tenant, row, profile, mapping, auto_create)
        when = _to_utc(local, offset, profile.zone or _meter_zone(tenant, channel))
        value = float(cell)
        refused = tenant.rejection(channel.channel_id, when, value)
        if refused:
            raise RowError(f"column {column}: {refused}")
        out.append((channel.channel_id, when, Reading(value, estimated, note or None)))
    return out


def _cell(row: list[str], column: int) -> str:
    return row[column - 1].strip() if 0 < column <= len(row) else ""


def _row_time(row: list[str], profile: Profile) -> tuple[datetime, timezone | None]:
    try:
        if profile.stamp is not None:
            column = profile.col("timestampColumnNumber")
            assert column is not None
            return parse_datetime(profile.stamp.fields(_cell(row, column)))
        assert profile.date is not None and profile.time is not None
        date_col, time_col = profile.col("dateColumnNumber"), profile.col("timeColumnNumber")
        assert date_col is not None and time_col is not None
        day, day_offset = parse_datetime(profile.date.fields(_cell(row, date_col)))
        clock, clock_offset = parse_datetime(profile.time.fields(_cell(row, time_col)))
    except FormatError as error:
        raise RowError(f"time: {error}") from None
    combined = day.replace(hour=clock.hour, minute=clock.minute, second=clock.second)
    return combined.replace(microsecond=clock.microsecond), clock_offset or day_offset


def _estimated(row: list[str], profile: Profile) -> bool:
    spec = profile.raw.get("estimated")
    if not spec:
        return False
    return _cell(row, int(spec["columnNumber"])) == str(spec["indicator"]).strip()


def _channel(
    tenant: Tenant, row: list[str], profile: Profile, mapping: dict[str, Any], auto_create: bool
) -> FakeChannel:
    channel_col = profile.col("channelImportIdColumnNumber")
    meter_col = profile.col("meterImportIdColumnNumber")
    channel_import = _cell(row, channel_col) if channel_col else ""
    meter_import = _cell(row, meter_col) if meter_col else ""
    if not (channel_import or meter_import):
        raise RowError("the import id cell is empty")
    target = Target(
        channel_import_id=channel_import or None,
        parent_import_id=meter_import or None,
        observation_type=mapping["observationTypeCode"],
        unit=mapping["unitCode"],
        interval_s=profile.raw.get("channelIntervalInSeconds"),
    )
    try:
        return tenant.resolve(target, auto_create=auto_create and not channel_import)
    except ResolveError as error:
        raise RowError(str(error)) from None


def _meter_zone(tenant: Tenant, channel: FakeChannel) -> FakeTimeZone:
    meter = tenant.meter_of(channel.channel_id)
    assert meter is not None
    return meter.zone


def _to_utc(local: datetime, offset: timezone | None, zone: FakeTimeZone) -> datetime:
    if offset is not None:
        return local.replace(tzinfo=offset).astimezone(UTC)
    rules = ZoneInfo(zone.iana)
    early, late = local.replace(tzinfo=rules, fold=0), local.replace(tzinfo=rules, fold=1)
    if early.astimezone(UTC).astimezone(rules).replace(tzinfo=None) != local:
        raise RowError(f"time {local:%Y-%m-%d %H:%M:%S} does not exist in {zone.code}")
    if early.utcoffset() != late.utcoffset():  # ambiguous: .NET takes standard time
        return (early if not early.dst() else late).astimezone(UTC)
    return early.astimezone(UTC)
