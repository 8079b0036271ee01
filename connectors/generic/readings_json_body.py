"""Validation of a Readings API body (an array of ReadingCreate), with JSON paths.

Keys are matched case-insensitively, as EnergyCAP's JSON reader does. Each
problem names its place in the document, e.g. `[3].readings[17].value`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Problem, ProblemKind, SourceError

ID_KEYS = ("channelId", "channelImportId", "meterImportId")
# Quantity vocabulary ↔ EnergyCAP default codes (the shipped defaults of the mapping).
DEFAULT_CODES: dict[str, tuple[str, str]] = {
    "kWh": ("Use", "kWh"),
    "kW": ("Demand", "kW"),
    "kVArh": ("ReactiveUse", "kVARh"),
    "kVAr": ("ReactiveDemand", "kVAR"),
}


@dataclass
class Target:
    """The EnergyCAP identifiers and codes of one ReadingCreate."""

    path: str
    channel_id: int | None
    channel_import_id: str | None
    meter_import_id: str | None
    observation_type: str | None
    unit: str | None
    interval_s: int

    @property
    def source_id(self) -> str:
        """channelImportId, else meterImportId, else channelId as text."""
        return self.channel_import_id or self.meter_import_id or str(self.channel_id)

    @property
    def quantity(self) -> str:
        """The quantity vocabulary name when the codes are a default pair, else the codes'."""
        for name, codes in DEFAULT_CODES.items():
            if codes == (self.observation_type, self.unit):
                return name
        if self.observation_type is None:
            return self.unit or "kWh"
        return self.observation_type

    def hint(self) -> dict[str, Any]:
        """A MappingRow-like dict that sends this source where the body said."""
        row: dict[str, Any] = {"source_id": self.source_id, "quantity": self.quantity}
        if self.channel_id is not None:
            row["channel_id"] = self.channel_id
        elif self.channel_import_id is not None:
            row["channel_import_id"] = self.channel_import_id
        else:
            row["meter_import_id"] = self.meter_import_id
        row["observation_type"] = self.observation_type
        row["unit"] = self.unit
        return row


@dataclass
class Cells:
    """Readings that passed validation, column-wise (times still text)."""

    target: list[int] = field(default_factory=list)
    time: list[str] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    estimated: list[bool] = field(default_factory=list)
    note: list[str | None] = field(default_factory=list)
    path: list[str] = field(default_factory=list)


def _get(obj: dict[str, Any], key: str) -> Any:
    if key in obj:
        return obj[key]
    lowered = key.lower()
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return None


def unwrap(data: Any, file: str) -> tuple[list[Any], str, str]:
    """The list of ReadingCreate objects, the path prefix, and the form found.

    Accepted: an array; a single ReadingCreate object (it has an identifier);
    `{"readings": [ReadingCreate...]}` (its items have their own `readings`).

    Raises:
        SourceError: for JSON of any other shape.
    """
    if isinstance(data, list):
        return data, "", "array"
    if isinstance(data, dict) and isinstance(_get(data, "readings"), list):
        inner = _get(data, "readings")
        if any(_get(data, k) is not None for k in ID_KEYS):
            return [data], "", "object"
        dicts = [x for x in inner if isinstance(x, dict)]
        if dicts and all(isinstance(_get(x, "readings"), list) for x in dicts):
            return inner, "readings", "wrapped"
    raise SourceError(
        "JSON, but not a Readings API body: expected an array of ReadingCreate objects "
        "({channelImportId|meterImportId|channelId, observationTypeCode, unitCode, "
        "channelIntervalInSeconds, readings: [{time, value, estimated, note}]})",
        file=file,
    )


def _bad(file: str, path: str, value: Any, message: str, count: int = 1) -> Problem:
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    # The path and value are in the message (JSON has no line/column to name).
    return Problem(ProblemKind.BAD_VALUE, f"{path}: {shown} {message}", file, count=count)


def check_target(obj: Any, path: str, file: str) -> Target | Problem:
    """Validate the identifiers and codes of one ReadingCreate."""
    if not isinstance(obj, dict):
        return _bad(file, path, obj, "is not a ReadingCreate object")
    readings = _get(obj, "readings")
    count = len(readings) if isinstance(readings, list) else 1
    if not isinstance(readings, list):
        return _bad(file, f"{path}.readings", readings, "is not an array of readings")
    fields: dict[str, Any] = {}
    for key, kind, limit in (
        ("channelId", int, None), ("channelImportId", str, 255), ("meterImportId", str, 255),
        ("observationTypeCode", str, 16), ("unitCode", str, 16),
        ("channelIntervalInSeconds", int, None),
    ):  # fmt: skip
        value = _get(obj, key)
        problem = _check_field(value, kind, limit, f"{path}.{key}", file, count)
        if problem is not None:
            return problem
        fields[key] = value.strip() if isinstance(value, str) else value
    if all(fields[k] is None for k in ID_KEYS):
        msg = f"{path}: has no channelId, channelImportId or meterImportId"
        return Problem(ProblemKind.BAD_VALUE, msg, file, count=count)
    return Target(
        path, fields["channelId"], fields["channelImportId"], fields["meterImportId"],
        fields["observationTypeCode"], fields["unitCode"], fields["channelIntervalInSeconds"] or 0,
    )  # fmt: skip


def _check_field(
    value: Any, kind: type, limit: int | None, path: str, file: str, count: int
) -> Problem | None:
    if value is None:
        return None
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return _bad(file, path, value, "is not a whole number ≥ 0", count)
        return None
    if not isinstance(value, str) or not value.strip():
        return _bad(file, path, value, "is not a non-empty string", count)
    if limit is not None and len(value) > limit:
        return _bad(file, path, value, f"is longer than {limit} characters", count)
    return None


def collect_readings(
    obj: dict[str, Any], number: int, path: str, file: str, cells: Cells
) -> list[Problem]:
    """Append the valid readings of one ReadingCreate to `cells`; name the others."""
    problems = []
    for j, item in enumerate(_get(obj, "readings")):
        where = f"{path}.readings[{j}]"
        problem = _check_reading(item, where, file)
        if problem is not None:
            problems.append(problem)
            continue
        cells.target.append(number)
        cells.time.append(_get(item, "time").strip())
        cells.value.append(float(_get(item, "value")))
        cells.estimated.append(bool(_get(item, "estimated")))
        note = _get(item, "note")
        cells.note.append(note if note else None)
        cells.path.append(where)
    return problems


def _check_reading(item: Any, where: str, file: str) -> Problem | None:
    if not isinstance(item, dict):
        return _bad(file, where, item, "is not a reading object {time, value}")
    time = _get(item, "time")
    if not isinstance(time, str) or not time.strip():
        return _bad(file, f"{where}.time", time, "is not a time (ISO 8601 text)")
    value = _get(item, "value")
    if not _is_number(value):
        return _bad(file, f"{where}.value", value, "is not a number")
    estimated = _get(item, "estimated")
    if estimated is not None and not isinstance(estimated, bool):
        return _bad(file, f"{where}.estimated", estimated, "is not true or false")
    note = _get(item, "note")
    if note is not None and not isinstance(note, str):
        return _bad(file, f"{where}.note", note, "is not text")
    return None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, str):
        if "_" in value:
            return False
        try:
            value = float(value.strip())
        except ValueError:
            return False
    return isinstance(value, (int, float)) and math.isfinite(value)
