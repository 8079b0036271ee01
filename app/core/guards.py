"""Last checks on a connector's batch before anything is sent or written.

Whatever the connector, two things never leave meterbridge: a value that is
not a finite number, and two different values for the same source, quantity
and instant (EnergyCAP would keep whichever came last, silently). Both are
held back and named with their origin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.core.string_codes import encoded
from connectors.base import Problem, ProblemKind
from connectors.finite import drop_non_finite as finite_only
from connectors.finite import split_origin

KEYS = ["source_id", "quantity", "time"]


def where(origin: object, label: str) -> tuple[str, int | None, str | None]:
    """File, line and column of an origin (see `connectors.finite.split_origin`)."""
    return split_origin(origin, label)


def _problem(kind: ProblemKind, message: str, row: object, label: str) -> Problem:
    file, line, column = where(getattr(row, "origin", None), label)
    return Problem(
        kind,
        message,
        file=file,
        line=line,
        column=column,
        value=repr(float(getattr(row, "value", 0.0))),
        source_id=str(getattr(row, "source_id", "")),
    )


def drop_non_finite(readings: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Hold back NaN/±inf values (never sent as a number), naming each (the shared check)."""
    return finite_only(readings, label)


def drop_conflicts(readings: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Same source, quantity and instant twice: one copy if equal, none if they differ.

    Conflicting rows are all held back (which one is right cannot be told),
    each named with its origin and the instant.
    """
    if len(readings) < 2 or not _may_repeat(readings):
        return readings, []
    repeated = readings.duplicated(KEYS, keep=False).to_numpy()
    if not repeated.any():
        return readings, []
    repeat_of_earlier = readings.duplicated([*KEYS, "value"], keep="first").to_numpy()
    rest = readings.loc[~repeat_of_earlier]
    clash = rest.duplicated(KEYS, keep=False).to_numpy()
    problems = [
        _problem(
            ProblemKind.HELD_BACK,
            f"another reading of source {row.source_id} has a different value for the same "
            f"instant {pd.Timestamp(row.time).isoformat()}; neither is sent",
            row,
            label,
        )
        for row in rest.loc[clash].itertuples()
    ]
    return rest.loc[~clash].reset_index(drop=True), problems


def _may_repeat(readings: pd.DataFrame) -> bool:
    """False when no (source, quantity, instant) can occur twice, told on integer codes.

    Usually the batch goes by source, then time (a linear check); otherwise the
    duplicate check runs on two int64 columns instead of strings.
    """
    key = _indices(readings["source_id"])
    quantity = encoded(readings["quantity"])
    if len(quantity.dictionary) > 1:
        key = key.astype("int64") * len(quantity.dictionary) + _indices(readings["quantity"])
    times = readings["time"]
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.array.asi8  # no copy; compared only with each other
    else:
        times = times.to_numpy(dtype="datetime64[ns]").view("int64")
    step_key, step_time = np.diff(key), np.diff(times)
    if bool(((step_key > 0) | ((step_key == 0) & (step_time > 0))).all()):
        return False  # first-seen codes rise: each key's run is contiguous, times rise in it
    pairs = pd.DataFrame({"key": key, "time": times}, copy=False)
    return bool(pairs.duplicated().any())


def _indices(values: pd.Series) -> np.ndarray[Any, Any]:
    """The code of each row of a string column (its shared encoding, no copy)."""
    return encoded(values).indices.to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def drop_channel_ids(mapped: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Hold back readings mapped by numeric channelId, which an import file cannot carry.

    One problem per source (with its count), located at its first reading.
    """
    numeric = mapped["channel_id"].notna().to_numpy()
    if not numeric.any():
        return mapped, []
    held = mapped.loc[numeric]
    problems = []
    for source_id, rows in held.groupby("source_id", sort=True):
        file, line, column = where(rows["origin"].iloc[0], label)
        problems.append(
            Problem(
                ProblemKind.HELD_BACK,
                f"source {source_id} is mapped to channelId {rows['channel_id'].iloc[0]}, which "
                "an import file cannot carry; map it by channel_import_id or meter_import_id, "
                "or send with --api readings",
                file=file,
                line=line,
                column=column,
                source_id=str(source_id),
                count=len(rows),
            )
        )
    return mapped.loc[~numeric].reset_index(drop=True), problems
