"""Finite values: the one check every reader, the batch guard and the journal share.

A value that is NaN, an infinity, or too large for a 64-bit float (``1e400``)
is never a reading: the readers call `finite_number` cell by cell (or
`drop_non_finite` on what they built), the batch guard calls `drop_non_finite`
on every connector's batch, and the journal calls it when staging. Each
dropped value becomes a `Problem` naming file, line, column and value.
Imports only `connectors.base`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from connectors.base import Problem, ProblemKind

NOT_FINITE = (
    "not a finite number (NaN, an infinity, or too large for a 64-bit float); "
    "this reading is not sent"
)
_CLOCK_ORIGIN = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\[?\d{1,2}:\d\d(?::\d\d)?\]?)$"
)


def finite_number(value: object) -> float | None:
    """`value` (a number or its text) as a finite float, else None.

    None for NaN, ±inf, and numbers beyond the float range that Python reads
    as infinite (``"1e400"``, ``10**400``); also for anything that is not a
    number at all (``True``/``False`` are not numbers here). Readers use it
    where a cell is parsed, so the overflowing text itself can be named.
    """
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def split_origin(origin: object, label: str = "") -> tuple[str, int | None, str | None]:
    """File, line and column of an origin ``file:line:column``.

    The file may hold colons (``C:\\data\\x.csv``), and a half-hour column label
    such as ``00:30``, ``[00:30]`` or ``00:30:00`` holds them too. An origin
    that is not of that form is returned whole as the file; no origin gives
    `label` (the source's name).
    """
    if not isinstance(origin, str) or not origin:
        return label, None, None
    clock = _CLOCK_ORIGIN.match(origin)
    if clock:
        return clock["file"], int(clock["line"]), clock["column"]
    parts = origin.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1]), parts[2] or None
    return origin, None, None


def not_finite_problem(
    value: object, origin: object = None, *, label: str = "", source_id: object = None
) -> Problem:
    """The `Problem` naming one refused value: file, line, column (from `origin`) and value.

    Args:
        value: the value as found (the cell's text such as ``"1e400"``, or the float).
        origin: the reading's ``file:line:column`` (or any text locating it).
        label: the source's name, used when there is no origin.
        source_id: the reading's source id, if known.
    """
    file, line, column = split_origin(origin, label)
    shown = repr(float(value)) if isinstance(value, float) else str(value)
    return Problem(
        ProblemKind.BAD_VALUE,
        NOT_FINITE,
        file=file or None,
        line=line,
        column=column,
        value=shown,
        source_id=None if source_id is None or source_id is pd.NA else str(source_id),
    )


def non_finite_positions(values: Sequence[Any] | np.ndarray[Any, Any]) -> list[int]:
    """Positions of the values that are not finite numbers (fast when all are).

    Accepts a float array or a plain list (a push reader's `PointColumns.value`);
    a list item that is not a number (a string, None, a bool) counts as not finite.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return np.flatnonzero(~np.isfinite(values)).tolist()  # type: ignore[no-any-return]
    try:
        if all(map(math.isfinite, values)) and not any(isinstance(v, bool) for v in values):
            return []
    except (TypeError, ValueError, OverflowError):
        pass
    return [i for i, v in enumerate(values) if finite_number(v) is None]


def drop_non_finite(
    readings: pd.DataFrame, label: str = "", raw: Sequence[object] | None = None
) -> tuple[pd.DataFrame, list[Problem]]:
    """Drop the readings whose value is NaN, ±inf (or overflowed to it); name each.

    The one finite-value check of meterbridge: the readers call it on what
    they built (or `finite_number` cell by cell), the batch guard calls it on
    every connector's batch, and the journal calls it when staging, so
    nothing non-finite is ever journaled, whatever the path.

    Args:
        readings: a frame with at least ``value``, ``origin`` and ``source_id``.
        label: the source's name, for readings without an origin.
        raw: the values as written in the source, row for row (optional): the
            problem then names ``1e400`` rather than ``inf``.

    Returns:
        The finite readings (index reset when rows were dropped) and one
        `Problem` per dropped reading, naming file, line, column and value.
    """
    values = readings["value"].to_numpy(dtype="float64", na_value=np.nan)
    bad = non_finite_positions(values)
    if not bad:
        return readings, []
    origins = readings["origin"].to_numpy(dtype=object)
    ids = readings["source_id"].to_numpy(dtype=object) if "source_id" in readings else None
    problems = [
        not_finite_problem(
            values[i] if raw is None else raw[i],
            origins[i],
            label=label,
            source_id=None if ids is None else ids[i],
        )
        for i in bad
    ]
    keep = np.ones(len(readings), dtype=bool)
    keep[bad] = False
    return readings.loc[keep].reset_index(drop=True), problems
