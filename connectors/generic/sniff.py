"""How sure the generic connector is that a file is one reading per row.

0.65 when the header names id, time and value columns, the file is narrow
(a long file, not a wide half-hourly grid) and the first data rows read as
readings; 0.3 when only the header fits; 0.05 for other CSVs; 0 otherwise.
Specialised connectors that recognise their own signature score higher.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Any

import pandas as pd

from connectors.base import SourceError
from connectors.generic.cells import ISO, choose_time_format, format_is_aware, parse_values
from connectors.generic.layout import (
    Columns,
    choose_columns,
    decode_head,
    find_layout,
    looks_like,
)

MAX_LONG_WIDTH = 8  # more columns than this looks like a wide (grid) file
SAMPLE_ROWS = 20
GOOD_SHARE = 0.75  # of the sampled rows that must read as readings
STRONG = 0.65  # above uk-hh's structure-only matches (0.5-0.6), below its signature matches


def sniff_generic(head: bytes, name: str) -> float:
    """Confidence in [0, 1] that `head` is a generic readings CSV."""
    if looks_like(head) is not None:
        return 0.0
    try:
        layout = find_layout(head, name, {})
        if len(layout.header) < 2:
            return 0.0
        columns = choose_columns(layout.header, {}, name, layout.sample)
    except SourceError:
        return 0.05 if "layout" in locals() else 0.0
    if len(layout.header) > MAX_LONG_WIDTH:
        return 0.3
    text, _ = decode_head(head)
    lines = text.splitlines()[layout.header_line :]
    rows = [r for r in csv.reader(lines[:SAMPLE_ROWS], delimiter=layout.delimiter) if any(r)]
    return STRONG if rows and _rows_read(rows[:-1] or rows, columns, name) else 0.3


def _rows_read(rows: list[list[str]], columns: Columns, name: str) -> bool:
    """Whether most sampled rows have an id, a readable time and a number."""

    def cells(role: str) -> pd.Series:
        picked = [" ".join(r[i] if i < len(r) else "" for i in columns.index[role]) for r in rows]
        return pd.Series(picked, dtype="str")

    times = cells("time")
    try:  # any zone: the day/month order does not matter to whether rows read as readings
        fmt = choose_time_format(times, name, tz="UTC")
    except SourceError:
        return False
    aware = format_is_aware(fmt) or fmt == ISO
    parsed = pd.to_datetime(times.str.strip(), format=fmt, errors="coerce", utc=aware)
    values = cells("value")
    comma = not values.str.contains(".", regex=False).any()
    _, bad_value = parse_values(values, "," if comma else ".")
    good = (cells("id").str.strip() != "").to_numpy() & parsed.notna().to_numpy() & ~bad_value
    return bool(good.mean() >= GOOD_SHARE)


def first_line_is_data(
    header: list[str], columns: Columns, options: Mapping[str, Any], name: str
) -> bool:
    """Whether a file whose id, time and value columns were given by number has no header.

    True when its first line already reads as a reading (an id, a time, a number).
    """
    given = [str(options.get(f"{role}_column") or "") for role in ("id", "time", "value")]
    if not all(g.strip().isdigit() for g in given):
        return False
    return _rows_read([header], columns, name)


def numbered_columns(columns: Columns, options: Mapping[str, Any]) -> Columns:
    """Only the columns the options gave, labelled by their 1-based numbers."""
    given = {r: c for r, c in columns.index.items() if options.get(f"{r}_column") not in (None, "")}
    labels = {r: "+".join(str(i + 1) for i in cols) for r, cols in given.items()}
    return Columns(index=given, labels=labels, automatic=[])
