"""One chunk of a generic CSV: raw string cells to parsed rows plus named problems.

The rows that come out still have their times in two forms: `utc` for cells
that carried an offset, `wall` (naive) for those to be placed in the zone.
Placing naive times (clock changes) happens later, per source, across chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from connectors.base import Problem, ProblemKind
from connectors.generic.cells import (
    QUANTITY_SPELLING,
    format_is_aware,
    has_offset,
    parse_aware,
    parse_estimated,
    parse_naive,
    parse_values,
    value_problem,
)
from connectors.generic.layout import Columns

PARSED_COLUMNS = (
    "line", "source_id", "quantity", "value", "estimated", "note", "utc", "wall", "naive",
    "time_text",
)  # fmt: skip


@dataclass
class CellRules:
    """How cells are read; fixed for a whole file."""

    file: str
    columns: Columns
    width: int  # number of header cells
    decimal: str
    time_format: str
    quantity: str
    tz: str | None


@dataclass
class ParsedChunk:
    """Good rows of a chunk (PARSED_COLUMNS) and the problems of the bad ones."""

    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


def _cells(raw: pd.DataFrame, rules: CellRules, role: str) -> pd.Series:
    cols = rules.columns.index[role]
    text = raw[cols[0]]
    for extra in cols[1:]:
        text = text.str.cat(raw[extra], sep=" ")
    return text


def _problems(
    rules: CellRules,
    lines: np.ndarray,
    cells: pd.Series,
    bad: np.ndarray,
    role: str,
    message: str | None,
) -> list[Problem]:
    """One BAD_VALUE problem per bad cell (the loop runs over bad cells only)."""
    label = rules.columns.labels[role]
    found = []
    for line, cell in zip(lines[bad], cells[bad], strict=True):
        text = message or value_problem(str(cell), rules.decimal)
        found.append(Problem(ProblemKind.BAD_VALUE, text, rules.file, int(line), label, str(cell)))
    return found


def parse_chunk(raw: pd.DataFrame, lines: np.ndarray, rules: CellRules) -> ParsedChunk:
    """Parse one chunk of raw string cells (columns numbered from 0).

    Args:
        raw: the chunk, every cell a string ("" when absent).
        lines: the 1-based physical line of each row.
        rules: how to read cells.
    """
    swallowed = _swallowed_rows(raw, lines, rules)
    raw, lines, problems = _drop_blank_and_wide(raw, lines, rules)
    problems += swallowed
    ids = _cells(raw, rules, "id").str.strip()
    bad_id = (ids == "").to_numpy(dtype=bool)
    problems += _problems(rules, lines, ids, bad_id, "id", "the source id is empty")
    value_text = _cells(raw, rules, "value")
    values, bad_value = parse_values(value_text, rules.decimal)
    problems += _problems(rules, lines, value_text, bad_value, "value", None)
    estimated, bad_est = _estimated(raw, rules)
    if bad_est.any():
        est_text = _cells(raw, rules, "estimated")
        msg = "not an estimated flag (true/false, 1/0, yes/no, E/A, Estimated/Actual)"
        problems += _problems(rules, lines, est_text, bad_est, "estimated", msg)
    time_text = _cells(raw, rules, "time").str.strip()
    utc, wall, naive, unreadable = _times(time_text, rules)
    unzoned = naive & ~unreadable & (rules.tz is None)
    problems += _time_problems(rules, lines, time_text, unreadable, unzoned)
    good = ~(bad_id | bad_value | bad_est | unreadable | unzoned)
    columns = {"line": lines, "source_id": ids.array, "value": values, "estimated": estimated}
    times = {"utc": utc.array, "wall": wall.array, "naive": naive, "time_text": time_text.array}
    rows = pd.DataFrame(
        {**columns, "quantity": _quantity(raw, rules), "note": _note(raw, rules), **times}
    )
    return ParsedChunk(rows=rows[good].reset_index(drop=True), problems=problems)


def _drop_blank_and_wide(
    raw: pd.DataFrame, lines: np.ndarray, rules: CellRules
) -> tuple[pd.DataFrame, np.ndarray, list[Problem]]:
    """Skip blank lines; name rows with more cells than the header (they cannot be trusted)."""
    empty = pd.DataFrame({c: raw[c].str.strip() == "" for c in raw.columns})
    blank = empty.all(axis=1).to_numpy(dtype=bool)
    extra_cols = [c for c in raw.columns if c >= rules.width]
    wide = ~empty[extra_cols].all(axis=1).to_numpy(dtype=bool) & ~blank
    problems = []
    for line, row in zip(lines[wide], empty[extra_cols][wide].to_numpy(), strict=True):
        count = rules.width + int(np.flatnonzero(~row).max()) + 1
        problems.append(
            Problem(
                ProblemKind.BAD_VALUE,
                f"the row has {count} cells but the header has {rules.width}; a delimiter "
                "inside an unquoted value (e.g. a thousands separator) splits a cell, so "
                "the row is not used",
                rules.file,
                int(line),
            )
        )
    keep = ~(blank | wide)
    return raw[keep].reset_index(drop=True), lines[keep], problems


def _swallowed_rows(raw: pd.DataFrame, lines: np.ndarray, rules: CellRules) -> list[Problem]:
    """Name cells that ran over line breaks and hold what looks like whole rows: a quote
    opened and closed only lines later, so the rows between were read as one cell.

    Only rows followed by a jump in line numbers (and the chunk's last row) can hold a
    line break, so only those are looked at.
    """
    if not len(raw):
        return []
    problems = []
    for row in np.flatnonzero(np.append(np.diff(lines) > 1, True)):
        inner = [
            line
            for cell in raw.iloc[row]
            if "\n" in str(cell)
            for line in str(cell).split("\n")[1:]
        ]
        if not any(max(line.count(d) for d in ",;\t|") >= rules.width - 1 for line in inner):
            continue  # no line break, or a note written over several lines
        message = (
            f"a quote opened on this line is closed only {len(inner)} line(s) later: the "
            "lines between look like rows but were read as one cell, so their readings "
            "are lost; close the quote"
        )
        problems.append(Problem(ProblemKind.BAD_VALUE, message, rules.file, int(lines[row])))
    return problems


def _estimated(raw: pd.DataFrame, rules: CellRules) -> tuple[np.ndarray, np.ndarray]:
    if "estimated" not in rules.columns.index:
        n = len(raw)
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    return parse_estimated(_cells(raw, rules, "estimated"))


def _quantity(raw: pd.DataFrame, rules: CellRules) -> np.ndarray:
    """Quantities in the vocabulary's spelling (`KWH` → `kWh`); empty → the default."""
    if "quantity" not in rules.columns.index:
        return np.full(len(raw), rules.quantity, dtype=object)
    cells = _cells(raw, rules, "quantity").str.strip()
    spelled = cells.str.lower().map(QUANTITY_SPELLING)
    cells = cells.where(spelled.isna(), spelled)
    return np.asarray(cells.where(cells != "", rules.quantity), dtype=object)


def _note(raw: pd.DataFrame, rules: CellRules) -> np.ndarray:
    if "note" not in rules.columns.index:
        return np.full(len(raw), None, dtype=object)
    cells = _cells(raw, rules, "note").str.strip()
    return np.asarray(cells.where(cells != "", None), dtype=object)


def _times(
    text: pd.Series, rules: CellRules
) -> tuple[pd.Series, pd.Series, np.ndarray, np.ndarray]:
    """(utc for offset cells, naive wall for the others, naive mask, unreadable mask)."""
    if format_is_aware(rules.time_format):
        aware = np.ones(len(text), dtype=bool)
    else:
        aware = has_offset(text)
    utc = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    wall = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if aware.any():
        utc[aware] = parse_aware(text[aware], rules.time_format).astype(utc.dtype)
    if (~aware).any():
        wall[~aware] = parse_naive(text[~aware], rules.time_format).astype(wall.dtype)
    naive = ~aware
    bad = np.where(aware, utc.isna().to_numpy(), wall.isna().to_numpy())
    return utc, wall, naive, bad


def _time_problems(
    rules: CellRules, lines: np.ndarray, text: pd.Series, bad: np.ndarray, unzoned: np.ndarray
) -> list[Problem]:
    no_zone = "the time has no UTC offset and no time zone was given (--tz)"
    fmt = "ISO 8601" if rules.time_format == "ISO8601" else repr(rules.time_format)
    not_time = f"not a time in the format {fmt} (see --time-format)"
    found = _problems(rules, lines, text, bad, "time", not_time)
    found += _problems(rules, lines, text, unzoned, "time", no_zone)
    return found
