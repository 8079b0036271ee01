"""Files without a header row: the layout is recognised from the shape of the rows.

Some collectors (IMServ, BGlobal) export one row per meter per day with no
header at all: an id, maybe a meter serial, a date, then 48 values (46 or 50
on a clock-change day in some exports). Such a row is recognised when most of
the first rows have an id-like first cell (no spaces), a date cell within the
first four columns, and 46, 48 or 50 cells after it that are numbers or blank, and
the first line of three or more fields is such a row (a header no layout knows is
never skipped as if it were not there).
The layouts with `shape = "headerless"` in `connectors/tabular/layouts/` then say,
from what the date looks like (`row_date`), which collector it is and so the
time basis: e.g. BGlobal writes `dd/mm/yyyy` UTC days, IMServ `dd/mm/yy` local
days. The value columns get labels as if there were a header (`00:00` …
`23:30` for 48 half-hour starts, `P1` … for numbered periods), so origins and
problems read the same as for other files.
"""

from __future__ import annotations

import re
from collections import Counter

from connectors.tabular.layout import Layout, Plan, ValueColumn
from connectors.tabular.text import HeadLine, TextInfo, candidate_headers

VALUE_COUNTS = (46, 48, 50)
SAMPLE_ROWS = 20
GOOD_SHARE = 0.75
DATE_CELL = re.compile(r"^\d{1,4}[/\-. ]\d{1,2}[/\-. ]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?)?$")
ID_CELL = re.compile(r"^[\w\-./:]+$")
NUMBER_CELL = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
SPECIFIC, FALLBACK = 0.6, 0.55


def _row_shape(fields: list[str]) -> tuple[int, int] | None:
    """(date column, number of value columns) of one row, or None when it is not data."""
    if not ID_CELL.match(fields[0]):
        return None
    date_index = next((i for i in range(1, min(4, len(fields))) if DATE_CELL.match(fields[i])), 0)
    if not date_index:
        return None
    cells = fields[date_index + 1 :]
    if len(cells) - 1 in VALUE_COUNTS and not cells[-1]:
        cells = cells[:-1]  # a trailing delimiter
    if len(cells) not in VALUE_COUNTS:
        return None
    if not all(not cell or NUMBER_CELL.match(cell) for cell in cells):
        return None
    return date_index, len(cells)


def _sample(info: TextInfo) -> list[tuple[HeadLine, list[str]]]:
    """The first lines of three or more fields (those a header could be), at most SAMPLE_ROWS."""
    return candidate_headers(info)[:SAMPLE_ROWS]


def _before(info: TextInfo, line: HeadLine) -> HeadLine:
    """A header line that is not there: the line before `line` (its end = where `line` starts)."""
    index = info.lines.index(line)
    end = info.lines[index - 1].end if index else 0
    return HeadLine(line.number - 1, end, "")


def recognise_rows(info: TextInfo, layouts: tuple[Layout, ...]) -> tuple[HeadLine, Plan] | None:
    """The (virtual header line, plan) of a headerless file, or None when rows do not fit."""
    candidates = [layout for layout in layouts if layout.shape == "headerless"]
    rows = _sample(info)
    if not candidates or not rows:
        return None
    shapes = [_row_shape(fields) for _, fields in rows]
    if shapes[0] is None:
        return None  # the first line is not data: an unknown header is never skipped
    counted = Counter(shape for shape in shapes if shape is not None)
    if not counted:
        return None
    (date_index, count), fitting = counted.most_common(1)[0]
    if fitting < GOOD_SHARE * len(rows):
        return None
    first = next(line for (line, _), shape in zip(rows, shapes, strict=True) if shape)
    dates = [fields[date_index] for (_, fields), shape in zip(rows, shapes, strict=True) if shape]
    width = max(len(fields) for _, fields in rows)
    best: Plan | None = None
    for layout in candidates:
        pattern = layout.row_date
        if pattern is not None and not all(pattern.match(d) for d in dates):
            continue
        plan = _plan(layout, width, date_index, count)
        if best is None or plan.score > best.score:
            best = plan
    return (_before(info, first), best) if best is not None else None


def _plan(layout: Layout, width: int, date_index: int, count: int) -> Plan:
    clock = count == 48 and layout.row_label == "start"
    if clock:
        names = [f"{s // 2:02d}:{s % 2 * 30:02d}" for s in range(48)]
    else:
        names = [f"P{n}" for n in range(1, count + 1)]
    labels = [f"column {i + 1}" for i in range(max(width, date_index + 1 + count))]
    values = []
    for slot, name in enumerate(names):
        labels[date_index + 1 + slot] = name
        values.append(ValueColumn(date_index + 1 + slot, name, slot, "kWh"))
    score = SPECIFIC if layout.row_date is not None else FALLBACK
    plan = Plan(layout, score, labels, 0, date_index, "clock" if clock else "period", values)
    plan.utc = layout.time_basis == "utc"
    return plan
