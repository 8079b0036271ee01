"""What EnergyCAP answers, as small dataclasses, and the parsers that build them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TARGET_KEYS: tuple[str, ...] = (
    "channelId",
    "channelImportId",
    "meterImportId",
    "esaChannelId",
    "esaChannelImportId",
    "dataPointImportId",
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
    """The answer to one Readings/ESA API post."""

    imported: int
    failed: int
    failures: list[FailedChannel]
    status: int


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


def parse_reading_result(data: dict[str, Any], status: int) -> ReadingResult:
    """Build a ReadingResult from a ReadingResponse body."""
    failures = []
    for item in data.get("failedReadings") or []:
        if not isinstance(item, dict):
            continue
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
