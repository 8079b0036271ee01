"""Nothing non-finite is ever journaled: NaN and ±inf values are refused at the door.

The readers refuse them where they read (naming file, line, column and
value), and the batch guard does for every connector's batch; this is the
journal's own use of the same check (`connectors.finite.drop_non_finite`), so
that no path (a push, a pull, the app's own drop) can store one. The refused
readings are counted in `AcceptResult.not_finite` and logged by name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from connectors.base import Problem
from connectors.finite import drop_non_finite, non_finite_positions, not_finite_problem
from connectors.push.common import PointColumns


def finite_readings(
    readings: pd.DataFrame | PointColumns,
) -> tuple[pd.DataFrame | PointColumns, list[Problem]]:
    """`readings` without NaN/±inf values, and a problem naming each one dropped.

    The journal's own use of the shared check (`connectors.finite.drop_non_finite`):
    whatever path readings take, nothing non-finite is ever journaled.
    """
    if isinstance(readings, PointColumns):
        if _all_finite_numbers(readings.value):
            return readings, []
        bad = non_finite_positions(readings.value)
        if not bad:
            return readings, []
        problems = [
            not_finite_problem(readings.value[i], readings.origin[i],
                               source_id=readings.source_id[i])
            for i in bad
        ]  # fmt: skip
        return _points_without(readings, set(bad)), problems
    if "value" not in readings.columns or not len(readings):
        return readings, []
    return drop_non_finite(readings)


def _all_finite_numbers(values: Sequence[object]) -> bool:
    """True when every value is a finite number and none a bool (C-speed loops only).

    The same answer `non_finite_positions` gives when it finds nothing, without
    its per-value Python test for bools (a push's 50 values checked per request).
    """
    try:
        return bool not in set(map(type, values)) and all(map(math.isfinite, values))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False


def _points_without(columns: PointColumns, drop: set[int]) -> PointColumns:
    keep = [i for i in range(len(columns)) if i not in drop]
    return replace(
        columns,
        source_id=[columns.source_id[i] for i in keep],
        quantity=[columns.quantity[i] for i in keep],
        unit=[columns.unit[i] for i in keep],
        time_ns=[columns.time_ns[i] for i in keep],
        interval_s=[columns.interval_s[i] for i in keep],
        value=[columns.value[i] for i in keep],
        note=[columns.note[i] for i in keep],
        origin=[columns.origin[i] for i in keep],
    )
