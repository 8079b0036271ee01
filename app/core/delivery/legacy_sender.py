"""Deliver mapped readings straight to EnergyCAP (Readings, ESA or Import API).

`deliver` is the one delivery step of the convert/send pipeline; the
journal (durable delivery) can replace it without touching the pipeline.
Every reading EnergyCAP refuses is traced back to its origin
(file:line:column) so the user can find it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from app.core.delivery.legacy_failures import trace_failures
from app.core.energycap.client import EnergyCapClient, ReadingResult, TaskResult
from app.core.energycap.exporter import (
    CSV_HEADER_LINE,
    ApiBatch,
    api_batches,
    import_csv_rows,
    import_groups,
    import_profile,
    sort_for_import,
)
from app.core.guards import drop_channel_ids
from app.core.report import DeliveryResult, Rejection
from app.core.settings import EnergyCapSettings
from connectors.base import Problem

Api = Literal["readings", "esa", "import"]
IMPORT_MAX_ROWS = 100_000  # readings per Import API file: one task each
ROW_IN_ERROR = re.compile(r"\b(?:row|line)\s*#?\s*(\d+)", re.IGNORECASE)


@dataclass
class DeliveryContext:
    """What delivery needs besides the readings: looked up once per run."""

    cancelled: Callable[[], bool] = lambda: False
    on_sent: Callable[[int], None] = lambda n: None
    utc_zone_id: int | None = None
    note: str | None = None
    tasks: list[TaskResult] = field(default_factory=list)


def deliver(
    mapped: pd.DataFrame,
    client: EnergyCapClient,
    api: Api,
    settings: EnergyCapSettings,
    context: DeliveryContext | None = None,
) -> DeliveryResult:
    """Send mapped readings through `api`; return what was sent and refused.

    Raises:
        ExportError: readings the chosen API cannot carry (a configuration error).
        EnergyCapError: authentication, whole-request rejections, exhausted retries.
    """
    ctx = context or DeliveryContext()
    if api == "import":
        return _deliver_import(mapped, client, settings, ctx)
    result = DeliveryResult()
    label: Any = settings.time_label
    for batch in api_batches(mapped, api=api, label=label, batch_size=settings.batch_size):
        if ctx.cancelled():
            break
        answer = client.post_readings(batch.body, api)
        part = _readings_outcome(mapped, batch, answer)
        ctx.on_sent(part.sent)
        result.add(part)
    return result


def _readings_outcome(
    mapped: pd.DataFrame, batch: ApiBatch, answer: ReadingResult
) -> DeliveryResult:
    rejections, positions = trace_failures(mapped, batch, answer)
    rejected = max(len(positions), answer.failed)
    return DeliveryResult(sent=batch.count - rejected, rejected=rejected, rejections=rejections)


def _deliver_import(
    mapped: pd.DataFrame,
    client: EnergyCapClient,
    settings: EnergyCapSettings,
    ctx: DeliveryContext,
) -> DeliveryResult:
    carried, held = drop_channel_ids(mapped, "import")
    result = DeliveryResult(
        rejected=len(mapped) - len(carried),
        rejections=[Rejection(p.message, origin=_origin(p), count=p.count) for p in held],
    )
    label: Any = settings.time_label
    if ctx.utc_zone_id is None and len(carried):
        ctx.utc_zone_id = client.utc_time_zone_id()
    for key, group in import_groups(carried):
        ordered = sort_for_import(group)
        for start in range(0, len(ordered), IMPORT_MAX_ROWS):
            if ctx.cancelled():
                return result
            part = ordered.iloc[start : start + IMPORT_MAX_ROWS]
            data = CSV_HEADER_LINE + import_csv_rows(part, key.kind, label)
            profile = import_profile(
                key.kind, key.observation_type, key.unit_code, key.interval_s,
                ctx.utc_zone_id, "meterbridge-inline",
            )  # fmt: skip
            guid = client.start_import(
                data, profile, note=ctx.note, auto_create_channels=settings.auto_create_channels
            )
            task = client.wait_task(
                guid, poll_s=settings.task_poll_s, timeout_s=settings.task_timeout_s
            )
            ctx.tasks.append(task)
            outcome = _import_outcome(carried, part, task)
            ctx.on_sent(outcome.sent)
            result.add(outcome)
    return result


def _origin(problem: Problem) -> str | None:
    where = [str(p) for p in (problem.file, problem.line, problem.column) if p is not None]
    return ":".join(where) or None


def _import_outcome(mapped: pd.DataFrame, part: pd.DataFrame, task: TaskResult) -> DeliveryResult:
    """Counts and rejections of one import task, errors traced to file rows."""
    count = len(part)
    if task.succeeded:
        sent = count if task.success_count is None else min(task.success_count, count)
        return DeliveryResult(sent=sent, rejected=count - sent)
    sent = min(task.success_count or 0, count)
    text = (task.error_output or task.message or f"import task ended as {task.status!r}").strip()
    rejections = _rows_named_in(mapped, part, text)
    if not rejections:
        rejections = [Rejection(reason=f"import task {task.guid}: {text}", count=count - sent)]
    return DeliveryResult(sent=sent, rejected=count - sent, rejections=rejections)


def _rows_named_in(mapped: pd.DataFrame, part: pd.DataFrame, text: str) -> list[Rejection]:
    """Rejections for error lines that name a row of the import file (header is row 1)."""
    positions = part["_pos"].to_numpy(dtype="int64")
    found = []
    for line in text.splitlines():
        match = ROW_IN_ERROR.search(line)
        if match is None:
            continue
        index = int(match.group(1)) - 2
        if 0 <= index < len(positions):
            found.append(_rejection_at(mapped, int(positions[index]), line.strip()))
    return found


def _rejection_at(mapped: pd.DataFrame, position: int, reason: str) -> Rejection:
    row = mapped.iloc[position]
    origin = row["origin"]
    return Rejection(
        reason=reason,
        origin=None if pd.isna(origin) else str(origin),
        source_id=str(row["source_id"]),
        time=pd.Timestamp(row["time"]).isoformat(),
        value=float(np.float64(row["value"])),
    )
