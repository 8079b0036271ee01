"""What happens to a push body once the listener has read it: parse, capture, decide.

Owned by the push work (issues #17 and #20: readers, captures, the per-device
hold/refuse policy); extend it here. The listener (issue #15) only calls
`take_in` with the device and the decoded `Payload` and answers what it
returns. Moved unchanged from the listener's request handler.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from app.core.listener.body import Payload
from app.core.listener.capture import CaptureStore
from app.core.listener.commit import PushJob
from app.core.push_readers import parse_payload
from app.core.sources.devices import Device, DeviceRegistry
from connectors.base import Problem, SourceError
from connectors.push.common import PointColumns

log = logging.getLogger(__name__)

MAX_PROBLEMS_SHOWN = 20


@dataclass
class Intake:
    """The decision on one body: readings to commit, or an answer without a commit.

    Attributes:
        job: the readings to commit (None when the body is refused or held).
        problems: values that could not be read (the rest are in `job`).
        info: what the reader reported besides readings (skipped parameters ...).
        captured: the capture id of the body when it was kept for mapping.
        status: the HTTP status when there is no job (400 refused, 202 held).
        document: the JSON answer when there is no job.
    """

    job: PushJob | None = None
    problems: list[Problem] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    captured: int | None = None
    status: int = 200
    document: dict[str, Any] | None = None


def take_in(
    device: Device, payload: Payload, captures: CaptureStore, devices: DeviceRegistry
) -> Intake:
    """Parse `payload` with the device's reader; capture what could not be read.

    Runs on a worker thread. Never raises for a bad body: a body nothing can
    be read from is captured and refused (400) with a message naming the problem.
    """
    options = {**device.reader_options(), "form": payload.fields}
    try:
        parsed = parse_payload(device.connector, payload.data, payload.name, options)
    except SourceError as exc:
        return _reject(device, payload, exc.message, captures, devices)
    except Exception as exc:  # a reader bug must not kill the connection: capture it
        log.exception("reader %s failed on a push from %s", device.connector, device.name)
        message = f"the reader failed: {type(exc).__name__}: {exc}"
        return _reject(device, payload, message, captures, devices)
    if isinstance(parsed, PointColumns):
        job, problems, info = PushJob(device, columns=parsed), parsed.problems, parsed.info
    else:
        job, problems, info = PushJob(device, frame=parsed[0]), parsed[1], parsed[2]
        if not job.count and problems:  # nothing readable: refused like the other readers
            first = problems[0].describe()
            message = f"no reading could be read; first problem: {first}"
            return _reject(device, payload, message, captures, devices, problems)
        # The identities a Readings-API body names go to the journal in the same
        # transaction as its readings (before the 200); delivery applies them.
        job.hints = list(info.get("mapping_hint") or [])
    captured = None
    if problems:
        reason = "; ".join(p.describe() for p in problems[:MAX_PROBLEMS_SHOWN])
        captured = _capture(
            device, payload, f"{len(problems)} value(s) not read: {reason}", captures
        )
    return Intake(job=job, problems=list(problems), info=dict(info), captured=captured)


def _reject(
    device: Device,
    payload: Payload,
    message: str,
    captures: CaptureStore,
    devices: DeviceRegistry,
    problems: list[Problem] | None = None,
) -> Intake:
    capture_id = _capture(device, payload, message, captures)
    devices.record_error(device.name, message)
    hint = f"the payload was captured; see `meterbridge device captures {device.name}`"
    document: dict[str, Any] = {"error": message, "captured": capture_id, "hint": hint}
    if problems:
        document["problems"] = [p.describe() for p in problems[:MAX_PROBLEMS_SHOWN]]
        document["problem_count"] = len(problems)
    return Intake(status=400, document=document, captured=capture_id)


def _capture(device: Device, payload: Payload, reason: str, captures: CaptureStore) -> int:
    return int(
        captures.keep(
            device.name,
            payload.data,
            name=payload.name,
            content_type=payload.content_type,
            reason=reason,
            fields=payload.fields,
        )
    )
