"""Codes of a batch's key columns (EnergyCAP ids, codes, interval), skipping constant ones.

The request bodies group readings by these columns and the targets table keys
them; in a delivery batch most hold one value throughout (one unit, one
interval, no channel ids), which is told without hashing a value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.core import string_codes


def key_codes(values: pd.Series, *, sort: bool = False, na_code: bool = False) -> Any:
    """Each row's code in a key column (`pd.factorize`), or None when the column holds
    one value throughout (all missing counts as one): a batch's codes, unit and
    interval usually do, and need no hashing then (told from text buffers, or by
    one comparison)."""
    if not len(values):
        return None
    if isinstance(values.dtype, pd.StringDtype):
        if string_codes.one_value(values):
            return None
    else:
        missing = values.isna().to_numpy(dtype=bool)
        if bool(missing.all()):
            return None
        plain = values.to_numpy()
        if not bool(missing.any()) and bool((plain == plain[0]).all()):
            return None
    return pd.factorize(values, sort=sort, use_na_sentinel=not na_code)[0]


def first_values(values: pd.Series, rows: Any, codes: Any) -> list[Any]:
    """The values at positions `rows` (missing: None); `codes` None: the column's one value."""
    if not len(rows):
        return []
    if codes is None:
        first = values.iloc[:1]
        return [None if bool(first.isna().iloc[0]) else first.tolist()[0]] * len(rows)
    picked = values.iloc[rows]
    gone = picked.isna().tolist()
    return [None if g else v for v, g in zip(picked.tolist(), gone, strict=True)]


def ordered_runs(
    mapped: pd.DataFrame, columns: tuple[str, ...]
) -> tuple[Any, list[tuple[dict[str, Any], int, int]]]:
    """The row positions sorted by the key `columns` (missing first), then time (stable),
    and each run of equal keys in that order: its key (missing: None) and span.

    Sorted as codes (numpy), not by taking every column of the frame; a key column
    with one value throughout is left out of the sort."""
    codes = {n: key_codes(mapped[n], sort=True) for n in columns}  # missing: -1
    varying = [c for c in codes.values() if c is not None]
    order = np.lexsort((pd.DatetimeIndex(mapped["time"]).asi8, *reversed(varying)))
    changes = np.arange(len(order)) == 0
    for sorted_codes in (c[order] for c in varying):
        changes[1:] |= sorted_codes[1:] != sorted_codes[:-1]
    starts = np.flatnonzero(changes)
    firsts = order[starts]
    picked = {n: first_values(mapped[n], firsts, codes[n]) for n in columns}
    keys = [dict(zip(columns, row, strict=True)) for row in zip(*picked.values(), strict=True)]
    stops = [*starts[1:].tolist(), len(order)]
    return order, list(zip(keys, starts.tolist(), stops, strict=True))
