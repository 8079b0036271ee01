"""What EnergyCAP answers, as small dataclasses, and the parsers that build them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.base import printable

# How a ReadingCreate / an EsaReadingCreate names its channel: by id, by import id, or by
# the meter's (data point's) import id.
READING_ID_KEYS: tuple[str, str, str] = ("channelId", "channelImportId", "meterImportId")
ESA_ID_KEYS: tuple[str, str, str] = ("esaChannelId", "esaChannelImportId", "dataPointImportId")
ID_KEYS: tuple[str, ...] = READING_ID_KEYS + ESA_ID_KEYS
TARGET_KEYS: tuple[str, ...] = (
    *ID_KEYS,
    "observationTypeCode",
    "unitCode",
    "channelIntervalInSeconds",
    "esaChannelIntervalMinutes",
)

ENDED_OK = {"succeeded", "success", "completed", "complete", "finished", "done"}
ENDED_BAD_WORDS = ("fail", "error", "cancel", "abort")


@dataclass
class FailedChannel:
    """One channel's readings EnergyCAP did not import, with its reasons.

    Attributes:
        target: the channel as EnergyCAP echoed it (channelId, meterImportId ...).
        error: the channel-level reason, if any.
        readings: the failed readings, each ``{time, value, estimated, note, error}``.
    """

    target: dict[str, Any]
    error: str | None
    readings: list[dict[str, Any]]


@dataclass
class ReadingResult:
    """The answer to one Readings/ESA API post.

    Attributes:
        imported: ``importedReadingsCount``.
        failed: ``failedReadingsCount``.
        failures: ``failedReadings``, per channel.
        status: the HTTP status.
        accounted: False when the body is not the documented ``ReadingResponse``
            (not JSON, not an object, counts missing or not integers): then it
            confirms nothing.
        note: why it is not accounted, for the receipt and the user.
    """

    imported: int
    failed: int
    failures: list[FailedChannel]
    status: int
    accounted: bool = True
    note: str | None = None


def unaccounted(note: str, status: int) -> ReadingResult:
    """An answer that accounts for no reading (not the documented shape)."""
    return ReadingResult(0, 0, [], status, accounted=False, note=note)


@dataclass
class TaskResult:
    """The state of an Import API task."""

    guid: str
    status: str
    message: str | None
    success_count: int | None
    ended: bool
    succeeded: bool
    error_output: str | None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        """The task ended and failed, or ended with errors."""
        return self.ended and not self.succeeded


def parse_reading_result(data: Any, status: int) -> ReadingResult:
    """Build a ReadingResult from a ReadingResponse body (any decoded JSON).

    The documented shape is an object with an integer ``importedReadingsCount``,
    an integer ``failedReadingsCount`` (when absent, the failures listed are
    the count) and a list (or null) ``failedReadings``; anything else is
    returned `unaccounted`.
    """
    problem = _shape_problem(data)
    if problem is not None:
        return unaccounted(f"EnergyCAP answered {status} with {problem}", status)
    failures = []
    for item in data.get("failedReadings") or []:
        target = {k: item[k] for k in TARGET_KEYS if item.get(k) is not None}
        readings = [r for r in item.get("readings") or [] if isinstance(r, dict)]
        failures.append(FailedChannel(target=target, error=item.get("error"), readings=readings))
    counted = sum(len(f.readings) for f in failures)
    failed = _int(data.get("failedReadingsCount"))
    return ReadingResult(
        imported=_int(data.get("importedReadingsCount")) or 0,
        failed=failed if failed is not None else counted,
        failures=failures,
        status=status,
    )


def _shape_problem(data: Any) -> str | None:
    """What makes `data` not a ReadingResponse, or None when it is one."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not the documented ReadingResponse object"
    for key in ("importedReadingsCount", "failedReadingsCount"):
        value = data.get(key)
        if value is None and key == "failedReadingsCount":
            continue  # absent: the failures listed are the count
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"no valid {key} ({printable(repr(value))[:40]})"
    failures = data.get("failedReadings") or []
    if not isinstance(failures, list):
        return "failedReadings that is not a list"
    for item in failures:
        if not isinstance(item, dict) or not isinstance(item.get("readings") or [], list):
            return "a failedReadings entry that is not a FailedReadingResponse"
    return None


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def parse_task(guid: str, data: dict[str, Any]) -> TaskResult:
    """Build a TaskResult from a TaskResponse body.

    A task has ended when it has an `endDate` or a final status; it succeeded
    when the status says so and nothing in it speaks of errors.
    """
    status = str(data.get("status") or "")
    word = status.lower().replace(" ", "").replace("_", "")
    bad = any(w in word for w in ENDED_BAD_WORDS)
    ended = bool(data.get("endDate")) or word in ENDED_OK or bad
    return TaskResult(
        guid=str(data.get("taskGUId") or guid),
        status=status,
        message=data.get("message"),
        success_count=_int(data.get("currentSuccessCount")),
        ended=ended,
        succeeded=ended and not bad and (word in ENDED_OK or not word),
        error_output=None,
        raw=data,
    )


def _offset_is_zero(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return float(value) == 0.0
    text = str(value).strip().replace("UTC", "").replace("GMT", "")
    return text in ("", "0", "0.0", "+00:00", "-00:00", "00:00", "+0", "-0")


def pick_utc_zone(zones: list[dict[str, Any]]) -> int | None:
    """EnergyCAP's id of UTC: by code, else by description, else offset 0 without DST."""

    def no_dst(z: dict[str, Any]) -> bool:
        return not z.get("daylightSavingsObserved")

    def has_id(z: dict[str, Any]) -> bool:
        return _int(z.get("timeZoneId")) is not None

    candidates = [z for z in zones if has_id(z) and no_dst(z)]
    tests: tuple[Callable[[dict[str, Any]], bool], ...] = (
        lambda z: str(z.get("timeZoneCode") or "").strip().upper() in ("UTC", "ETC/UTC"),
        lambda z: "COORDINATED UNIVERSAL" in str(z.get("timeZoneInfo") or "").upper(),
        lambda z: (
            "UTC" in str(z.get("timeZoneInfo") or "").upper()
            and _offset_is_zero(z.get("gmtOffset"))
        ),
        lambda z: _offset_is_zero(z.get("gmtOffset")),
    )
    for test in tests:
        for zone in candidates:
            if test(zone):
                return _int(zone.get("timeZoneId"))
    return None


def decode_error_output(text: str) -> str:
    """A task's `errorOutput` as plain lines, however EnergyCAP encoded it.

    It may come as text/plain (``Line 2: ...`` per line), as a JSON string (the
    same text JSON-encoded, its line breaks escaped), or as a JSON array/object
    of errors (strings, or objects with a line/row number and a message).
    """
    stripped = text.strip()
    if not stripped or stripped[0] not in '"[{':
        return text
    try:
        data = json.loads(stripped)
    except ValueError:
        return text
    return "\n".join(line for line in _error_lines(data) if line.strip())


_LINE_KEYS = ("line", "lineNumber", "row", "rowNumber")
_TEXT_KEYS = ("message", "error", "errorMessage", "description", "text")
_NESTED_KEYS = ("errors", "errorOutput", "items", "data", "lines")


def _error_lines(data: Any) -> list[str]:
    if isinstance(data, str):
        return data.splitlines()
    if isinstance(data, list):
        return [line for item in data for line in _error_lines(item)]
    if not isinstance(data, dict):
        return [] if data is None else [str(data)]
    for key in _NESTED_KEYS:
        if data.get(key):
            return _error_lines(data[key])
    number = next((data[k] for k in _LINE_KEYS if data.get(k) is not None), None)
    text = "; ".join(str(data[k]) for k in _TEXT_KEYS if data.get(k))
    if number is not None:
        return [f"Line {number}: {text or json.dumps(data, ensure_ascii=False)}"]
    return [text or json.dumps(data, ensure_ascii=False)]
