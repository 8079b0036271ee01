"""Trace EnergyCAP's `failedReadings` back to the readings (and origins) that were sent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.core.energycap.client import FailedChannel, ReadingResult
from app.core.energycap.exporter import ApiBatch
from app.core.report import Rejection

ID_KEYS: tuple[str, ...] = (
    "channelId",
    "channelImportId",
    "meterImportId",
    "esaChannelId",
    "esaChannelImportId",
    "dataPointImportId",
)
CODE_KEYS: tuple[str, ...] = ("observationTypeCode", "unitCode")


def _same(a: Any, b: Any) -> bool:
    return str(a).strip().casefold() == str(b).strip().casefold()


def _matches(item: dict[str, Any], target: dict[str, Any]) -> bool:
    shared_ids = [k for k in ID_KEYS if k in item and k in target]
    if not shared_ids:
        return False
    keys = shared_ids + [k for k in CODE_KEYS if k in item and k in target]
    return all(_same(item[k], target[k]) for k in keys)


def _to_utc(values: list[Any]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601"))


class _Index:
    """Positions (in the mapped frame) of every reading of one request body."""

    def __init__(self, batch: ApiBatch) -> None:
        self.items = batch.body
        self.positions: list[np.ndarray[Any, Any]] = []
        self.times: list[pd.DatetimeIndex] = []
        offset = 0
        for item in batch.body:
            n = len(item["readings"])
            self.positions.append(batch.rows[offset : offset + n])
            self.times.append(_to_utc([r["time"] for r in item["readings"]]))
            offset += n

    def items_for(self, target: dict[str, Any]) -> list[int]:
        found = [i for i, item in enumerate(self.items) if _matches(item, target)]
        return found or list(range(len(self.items)))

    def locate(self, items: list[int], when: pd.Timestamp) -> int | None:
        for i in items:
            hits = np.flatnonzero(self.times[i] == when)
            if len(hits):
                return int(self.positions[i][hits[0]])
        return None


def trace_failures(
    mapped: pd.DataFrame, batch: ApiBatch, answer: ReadingResult
) -> tuple[list[Rejection], set[int]]:
    """Rejections (with origins) for a Readings/ESA answer, and the positions refused.

    A failed channel without per-reading detail refuses every reading of the
    matching channel in the request.
    """
    index = _Index(batch)
    rejections: list[Rejection] = []
    refused: set[int] = set()
    for failure in answer.failures:
        items = index.items_for(failure.target)
        if failure.readings:
            pairs = _failed_readings(index, items, failure)
        else:
            pairs = [(int(p), None) for i in items for p in index.positions[i]]
        for position, reading in pairs:
            if position is not None and position in refused:
                continue
            rejections.append(_rejection(mapped, position, failure, reading))
            if position is not None:
                refused.add(position)
    return rejections, refused


def _failed_readings(
    index: _Index, items: list[int], failure: FailedChannel
) -> list[tuple[int | None, dict[str, Any] | None]]:
    times = _to_utc([r.get("time") for r in failure.readings])
    return [
        (None if pd.isna(when) else index.locate(items, when), reading)
        for when, reading in zip(times, failure.readings, strict=True)
    ]


def _reason(failure: FailedChannel, reading: dict[str, Any] | None) -> str:
    said = [str(x) for x in ((reading or {}).get("error"), failure.error) if x]
    return "; ".join(dict.fromkeys(said)) or "no reason given"


def _rejection(
    mapped: pd.DataFrame,
    position: int | None,
    failure: FailedChannel,
    reading: dict[str, Any] | None,
) -> Rejection:
    reason = _reason(failure, reading)
    if position is None:
        target = ", ".join(f"{k}={v}" for k, v in failure.target.items())
        return Rejection(
            reason=f"{reason} [{target}]",
            time=None if reading is None else str(reading.get("time")),
            value=None if reading is None else _float(reading.get("value")),
        )
    row = mapped.iloc[position]
    return Rejection(
        reason=reason,
        origin=None if pd.isna(row["origin"]) else str(row["origin"]),
        source_id=str(row["source_id"]),
        time=pd.Timestamp(row["time"]).isoformat(),
        value=float(row["value"]),
    )


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
