"""Replay held pushes: every held body of a device through its reader, into the journal.

After the user maps a device's pushes (option ``mapping``, or reader options),
`replay_held` runs each body the listener held for the device — oldest first,
with the device's *current* options — and commits what it reads exactly as a
live push is committed (registers derived from the stored series, one journal
batch under the device's source). Replaying is idempotent: the journal keys
readings by (source, source id, quantity, time) and the register store keys
points by time, so a body replayed twice adds nothing. Only a body that now
parses without a problem is dropped, after its readings are committed; a body
with some values still unreadable gives its readable readings and stays held
with its new problem, like one that still cannot be read at all.

`preview_held` does the reading without committing (the mapping dialog's
live preview and `meterbridge device map`'s report).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from app.core.listener.capture import HELD, CaptureInfo, CaptureStore
from app.core.listener.commit import PushJob
from app.core.listener.push_intake import Intake, PushIntake
from app.core.push_readers import parse_payload
from app.core.sources.devices import Device
from connectors.base import SourceError

log = logging.getLogger(__name__)

Commit = Callable[[PushJob], None]  # commits a job, setting its result or error


@dataclass
class BodyResult:
    """What one held body gives with the device's current options."""

    capture: CaptureInfo
    readings: pd.DataFrame | None = None
    problem: str | None = None  # None: every value was read
    problems: list[str] = field(default_factory=list)


@dataclass
class ReplayReport:
    """What a replay did."""

    dropped: list[int] = field(default_factory=list)  # parsed, committed, no longer held
    still_held: dict[int, str] = field(default_factory=dict)  # id → its problem now
    readings: int = 0
    journal: dict[str, int] = field(default_factory=dict)


def read_held(
    device: Device,
    captures: CaptureStore,
    intake: PushIntake,
    options: dict[str, Any] | None = None,
) -> list[tuple[BodyResult, Intake | None]]:
    """Each held body of `device` (oldest first) read with its options (or `options`)."""
    results: list[tuple[BodyResult, Intake | None]] = []
    for info in reversed(captures.list(device.name, status=HELD)):
        capture = captures.get(info.id)
        if capture is None:
            continue
        base = intake.options(device, info.fields)
        chosen = {**base, **options} if options is not None else base
        results.append(_read_one(device, info, capture.body, chosen, intake))
    return results


def _read_one(
    device: Device, info: CaptureInfo, body: bytes, options: dict[str, Any], intake: PushIntake
) -> tuple[BodyResult, Intake | None]:
    result = BodyResult(info)
    try:
        parsed = parse_payload(device.connector, body, info.name, options)
    except SourceError as exc:
        result.problem = exc.message
        return result, None
    except Exception as exc:  # a reader bug: the body stays held, named
        result.problem = f"the reader failed: {type(exc).__name__}: {exc}"
        return result, None
    read = intake.job_of(device, parsed)
    result.problems = [p.describe() for p in read.problems]
    job = read.job
    if job is not None:
        result.readings = job.columns.to_frame() if job.columns is not None else job.frame
    if result.problems:
        count = len(result.problems)
        result.problem = f"{count} value(s) not read; first: {result.problems[0]}"
    return result, read


def preview_held(
    device: Device, captures: CaptureStore, intake: PushIntake, options: dict[str, Any]
) -> list[BodyResult]:
    """What every held body would give with `options` (nothing is committed)."""
    return [result for result, _ in read_held(device, captures, intake, options)]


def replay_held(
    device: Device, captures: CaptureStore, intake: PushIntake, commit: Commit
) -> ReplayReport:
    """Commit what every held body of `device` now gives; drop the bodies fully read."""
    report = ReplayReport()
    for result, read in read_held(device, captures, intake):
        job = None if read is None else read.job
        if job is not None and job.count:
            commit(job)
            if job.error is not None:
                report.still_held[result.capture.id] = f"not committed: {job.error}"
                captures.set_reason(result.capture.id, f"replay not committed: {job.error}")
                continue
            _count(report, job)
            intake.remember(device, read.info if read is not None else {})
        if result.problem is None and read is not None:
            captures.delete(result.capture.id)
            report.dropped.append(result.capture.id)
        else:
            problem = result.problem or "no reading"
            report.still_held[result.capture.id] = problem
            captures.set_reason(result.capture.id, problem)
    log.info(
        "replay of %s: %d bodies read and dropped, %d still held, %d readings",
        device.name,
        len(report.dropped),
        len(report.still_held),
        report.readings,
    )
    return report


def _count(report: ReplayReport, job: PushJob) -> None:
    report.readings += job.count
    accepted = job.result.accepted if job.result is not None else None
    for key, value in (vars(accepted) if hasattr(accepted, "__dict__") else {}).items():
        if isinstance(value, int):
            report.journal[key] = report.journal.get(key, 0) + value
