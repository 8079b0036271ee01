"""What happens to a push body once the listener has read it: parse, keep, decide.

Owned by the push work (issues #17 and #20: readers, captures, the per-device
hold/refuse policy). The listener (issue #15) calls `take_in` with the
authenticated device and the decoded `Payload` (data, content type, file name,
form fields, request headers) *off the event loop* (it parses, and it may
write a body to disk and fsync) and answers what it returns, an `Intake`:

- ``intake.job`` set: readings to commit. The listener submits the job to the
  committer, waits, then answers 200 (`summary` gives the document).
- ``intake.job`` None: answer ``intake.status`` / ``intake.document`` as they
  are. An unreadable body has then already been kept durably (committed and
  synced in the capture store) with its headers, content type, file name and
  form fields, before `take_in` returns:

  * policy *hold* (device option ``on_unreadable``; the default for EpiSensor
    and Accuenergy, whose formats are inferred): **202** ``held for mapping``
    — the gateway will not resend; the body waits to be mapped and replayed
    (`app.core.listener.replay`);
  * policy *refuse* (the default for Readings-API JSON): **400** naming the
    problem — the device keeps the body and resends it;
  * a JSON ``NaN``/``Infinity`` literal is always a 400 naming the field;
  * held bodies filling the store: **503** (nothing kept; the device resends).

A body with some unreadable values is accepted for the rest (200) and also
kept (status ``captured``). What a device's pushes named is remembered on the
way (`DeviceRegistry.record_meters`: a later push that names no meter is filed
under the single meter seen, or refused when there were several; parameters
not delivered are logged once per device).
"""

from __future__ import annotations

import email.message
import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from app.core.listener.body import Payload, safe_headers
from app.core.listener.capture import CAPTURED, HELD, INCOMPLETE, CaptureFull, CaptureStore
from app.core.listener.commit import PushJob, PushOutcome
from app.core.listener.sent_hints import SentHints
from app.core.push_readers import SlowPath, parse_payload, unreadable_policy
from app.core.sources.device_checks import misconfigured_answer
from app.core.sources.devices import Device, DeviceRegistry
from connectors.base import Problem, SourceError
from connectors.push.common import NotANumberLiteral, PointColumns

log = logging.getLogger(__name__)

MAX_PROBLEMS_SHOWN = 20
DEFAULT_NAME = "push-body"


@dataclass
class Intake:
    """The decision on one body: readings to commit, or an answer without a commit.

    Attributes:
        job: the readings to commit (None when the body is refused or held).
        problems: values that could not be read (the rest are in `job`).
        info: what the reader reported besides readings (skipped parameters,
            the meters named ...).
        captured: the capture id of the body when it was kept.
        status: the HTTP status when there is no job (202 held, 400 refused, 503).
        document: the JSON answer when there is no job.
    """

    job: PushJob | None = None
    problems: list[Problem] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    captured: int | None = None
    status: int = 200
    document: dict[str, Any] | None = None

    def answer(self, outcome: PushOutcome) -> dict[str, Any]:
        """The 200 document once the job's readings are committed."""
        assert self.job is not None
        return summary(self.job, outcome, self.problems, self.info, self.captured)


def take_in(
    device: Device,
    payload: Payload,
    captures: CaptureStore,
    devices: DeviceRegistry,
    sent_hints: SentHints | None = None,
) -> Intake:
    """Parse `payload` with the device's reader; keep, hold or refuse what cannot be read.

    Runs on a worker thread (never on the event loop). Never raises for a bad
    body. See the module doc for the answers. `sent_hints`: see `SentHints`.
    """
    return PushIntake(devices, captures, sent_hints).take(device, payload)


class PushIntake:
    """Reads a device's decoded bodies; keeps and answers what it cannot read."""

    def __init__(
        self, devices: DeviceRegistry, captures: CaptureStore, sent_hints: SentHints | None = None
    ) -> None:
        self.devices = devices
        self.captures = captures
        self.sent_hints = sent_hints
        self.quick_only = False  # `read_now`: readers without pandas only (see `SlowPath`)

    def take(self, device: Device, payload: Payload) -> Intake:
        """Parse `payload` with the device's reader (blocking: call it off the event loop)."""
        headers = dict(getattr(payload, "headers", None) or {})
        name = file_name(payload.name, headers)
        if device.problem:  # devices.json makes it unusable (app.core.sources.device_checks)
            return self._misconfigured(device, payload, name, headers)
        options = self.options(device, payload.fields)
        try:
            parsed = parse_payload(device.connector, payload.data, name, options)
        except SlowPath:
            raise  # `read_now`: the body is read on a worker thread instead
        except SourceError as exc:
            return self._unreadable(device, payload, name, headers, exc)
        except Exception as exc:  # a reader bug must not cost the body: keep it
            log.exception("reader %s failed on a push from %s", device.connector, device.name)
            error = SourceError(f"the reader failed: {type(exc).__name__}: {exc}")
            return self._unreadable(device, payload, name, headers, error)
        intake = self.job_of(device, parsed)
        if intake.job is not None and not intake.job.count and intake.problems:
            first = intake.problems[0].describe()
            error = SourceError(f"no reading could be read; first problem: {first}")
            return self._unreadable(device, payload, name, headers, error, intake.problems)
        if intake.problems:
            reason = "; ".join(p.describe() for p in intake.problems[:MAX_PROBLEMS_SHOWN])
            intake.captured = self._keep(
                device,
                payload,
                name,
                headers,
                f"{len(intake.problems)} value(s) not read: {reason}",
                CAPTURED,
            )
        self.remember(device, intake.info)
        return intake

    def options(self, device: Device, form: dict[str, str] | None = None) -> dict[str, Any]:
        """The reader options for one of the device's bodies (with what it named before)."""
        return {
            **device.reader_options(),
            "form": dict(form or {}),
            "known_meters": self.devices.meters(device.name),
            "sent_hints": self.sent_hints.of(device.name) if self.sent_hints else None,
            "quick_only": self.quick_only,
        }

    def job_of(self, device: Device, parsed: Any) -> Intake:
        """The job (and problems, info) for what the device's reader parsed."""
        if isinstance(parsed, PointColumns):
            intake = Intake(problems=parsed.problems, info=parsed.info)
            estimated = parsed.info.get("estimated_rows")
            if estimated:
                frame = parsed.to_frame()
                frame.loc[frame.index[estimated], "estimated"] = True
                intake.job = PushJob(device, frame=frame)
            else:
                intake.job = PushJob(device, columns=parsed)
            intake.job.hints = list(parsed.info.get("mapping_hint") or [])
            return intake
        frame, problems, info = parsed
        intake = Intake(problems=list(problems), info=dict(info))
        intake.job = PushJob(device, frame=frame if isinstance(frame, pd.DataFrame) else None)
        # A Readings-API body's identities go to the journal with its readings.
        intake.job.hints = list(info.get("mapping_hint") or [])
        return intake

    def remember(self, device: Device, info: dict[str, Any]) -> None:
        """Note the meters a read body named and the parameters it did not deliver."""
        self.devices.record_meters(device.name, list(info.get("meters") or []))
        new = self.devices.record_skipped(device.name, list(info.get("skipped_params") or []))
        if new:
            how = "key_table={...}" if device.connector == "acurev2100" else "params=[...]"
            log.info(
                "device %s: %d parameter(s) not delivered (listed once; deliver more with "
                "`meterbridge device set %s --set %s`): %s",
                device.name,
                len(new),
                device.name,
                how,
                ", ".join(new[:50]),
            )

    def _unreadable(
        self,
        device: Device,
        payload: Any,
        name: str,
        headers: dict[str, str],
        error: SourceError,
        problems: list[Problem] | None = None,
    ) -> Intake:
        message = error.message if isinstance(error, SourceError) else str(error)
        hold = unreadable_policy(device.connector, device.options) == "hold"
        if isinstance(error, NotANumberLiteral):
            hold = False  # not JSON: the sender must fix it
        try:
            kept = self._keep(device, payload, name, headers, message, HELD if hold else CAPTURED)
        except CaptureFull as full:
            self.devices.record_error(device.name, str(full))
            return Intake(status=503, document={"error": str(full)})
        self.devices.record_error(device.name, message)
        document = held_document(device, message, kept) if hold else refused(device, message, kept)
        if problems:
            document["problems"] = [p.describe() for p in problems[:MAX_PROBLEMS_SHOWN]]
            document["problem_count"] = len(problems)
        return Intake(status=202 if hold else 400, document=document, captured=kept)

    def _misconfigured(
        self, device: Device, payload: Any, name: str, headers: dict[str, str]
    ) -> Intake:
        """503: nothing stored, the body captured; the device sends again once it is fixed."""
        kept = self._keep(device, payload, name, headers, device.problem, CAPTURED)
        self.devices.record_error(device.name, device.problem)
        answer = misconfigured_answer(device.name, device.problem, kept)
        return Intake(status=503, document=answer, captured=kept)

    def _keep(
        self,
        device: Device,
        payload: Any,
        name: str,
        headers: dict[str, str],
        reason: str,
        status: str,
    ) -> int:
        return self.captures.keep(
            device.name,
            payload.data,
            name=name,
            content_type=payload.content_type,
            reason=reason,
            fields=payload.fields,
            headers=headers,
            status=status,
        )


def held_document(device: Device, message: str, capture_id: int) -> dict[str, Any]:
    """The 202 answer for a body held for mapping."""
    return {
        "status": "held for mapping",
        "device": device.name,
        "held": capture_id,
        "problem": message,
        "hint": (
            "the body is kept: map it in the app (Map held pushes…) or with `meterbridge device "
            f"map {device.name} …`, then `meterbridge device captures {device.name} --replay`"
        ),
    }


def refused(device: Device, message: str, capture_id: int) -> dict[str, Any]:
    """The 400 answer for a body refused (and captured for a look)."""
    return {
        "error": message,
        "captured": capture_id,
        "hint": f"the payload was captured; see `meterbridge device captures {device.name}`",
    }


def file_name(name: str | None, headers: dict[str, str]) -> str:
    """The body's file name: the one given, else Content-Disposition's, else ``push-body``."""
    if name and name != DEFAULT_NAME:
        return name
    disposition = next((v for k, v in headers.items() if k.lower() == "content-disposition"), "")
    if disposition:
        message = email.message.EmailMessage()
        message["Content-Disposition"] = disposition
        found = message.get_filename()
        if found:
            return str(found).replace("\\", "/").rsplit("/", 1)[-1]
    return name or DEFAULT_NAME


def summary(
    job: PushJob,
    outcome: PushOutcome,
    problems: list[Problem],
    info: dict[str, Any],
    captured: int | None,
) -> dict[str, Any]:
    """The JSON body of a 200 answer."""
    accepted = outcome.accepted
    journal = (
        {k: int(v) for k, v in vars(accepted).items()} if hasattr(accepted, "__dict__") else {}
    )
    document: dict[str, Any] = {
        "device": job.device.name,
        "received": job.count,
        "journal": journal,
        "committed_with_requests": outcome.requests,
    }
    if outcome.derived.registers_in:
        document["registers"] = {
            "points": outcome.derived.registers_in,
            "intervals": outcome.derived.intervals,
            "resets": outcome.derived.resets,
            "notes": outcome.derived.notes[:MAX_PROBLEMS_SHOWN],
        }
    if problems:
        document["problems"] = [p.describe() for p in problems[:MAX_PROBLEMS_SHOWN]]
        document["problem_count"] = len(problems)
        document["captured"] = captured
    if info.get("skipped_params"):
        document["skipped_params"] = info["skipped_params"]
    if info.get("meters"):
        document["meters"] = info["meters"]
    return document


class KeepNeeded(Exception):
    """Raised by `NO_KEEPING`: the body must be kept, which is disk I/O (not on the loop)."""


class _NoKeeping:
    """A capture store for reading on the event loop: any keep means "do it off the loop"."""

    def keep(self, *_args: Any, **_kwargs: Any) -> int:
        """Refuse to keep (see `KeepNeeded`)."""
        raise KeepNeeded


NO_KEEPING: Any = _NoKeeping()


def read_now(
    device: Device, payload: Payload, devices: DeviceRegistry, sent_hints: SentHints | None = None
) -> Intake | None:
    """The intake of a body that is read with nothing to keep and without pandas (so the
    event loop may call it for a small body); None when it must be kept or needs the
    catalog connector: call `take_in` off the loop (it reads the body again)."""
    intake = PushIntake(devices, NO_KEEPING, sent_hints)
    intake.quick_only = True
    try:
        return intake.take(device, payload)
    except (KeepNeeded, SlowPath):
        return None


def keep_incomplete(
    captures: CaptureStore, device: Device, body: bytes, headers: dict[str, str], reason: str
) -> int | None:
    """Record the part of a body that arrived before it was cut short (the peer closed or
    stalled mid-body, or its gzip stream ends early) as status ``incomplete``: shown by
    `meterbridge device captures`, never read, never replayed, nothing journaled.
    Runs on a worker thread (the store syncs); a failure is logged, never raised."""
    kept = safe_headers(headers)
    try:
        return captures.keep(
            device.name,
            body,
            name=file_name(None, kept),
            content_type=kept.get("content-type", "application/octet-stream"),
            reason=reason,
            headers=kept,
            status=INCOMPLETE,
        )
    except Exception:  # a full disk must not cost the listener
        log.exception("push from %s cut short and not recorded: %s", device.name, reason)
        return None
