"""Accuenergy data-log CSV as columns: header (or the ``columns`` option), time column, values.

A timestamp column, then one column per parameter key; maybe a BOM; maybe no
header (then the device's ``columns`` option names them); the time column is
the first unless option ``time_column`` names another. Blank lines are left
out; a short row's missing cells read as empty (missing values).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import SourceError
from connectors.push.accuenergy.fields import DELIMITERS
from connectors.push.bodies import is_plain_csv
from connectors.push.common import csv_rows

TIME_HEADERS = frozenset({"timestamp", "time", "datetime", "date", "ts", "date time"})
_STARTS_LIKE_TIME = re.compile(r"[+-]?\d")


@dataclass
class CsvTable:
    """A data-log CSV's cells (stripped), by column.

    Attributes:
        first_line: the physical line of the first data row (2 below a header).
        times: the time column's cells.
        columns: (parameter key, its cells) for every other named column, in file order.
    """

    first_line: int
    times: list[str]
    columns: list[tuple[str, list[str]]]


def read_csv_table(text: str, name: str, options: Mapping[str, Any]) -> CsvTable:
    """The columns of a data-log CSV body.

    Raises:
        SourceError: for an empty body, HTML, a body that is no data log, a
            missing ``columns`` option (no header) or ``time_column``.
    """
    delimiter = DELIMITERS.get(str(options.get("delimiter") or ","), ",")
    rows = [r for r in csv_rows(text, name, delimiter) if "".join(r).strip()]  # not blank
    if not rows:
        raise SourceError("file is empty", file=name)
    if rows[0][0].lstrip().startswith("<"):
        raise SourceError("body looks like HTML/XML, not a data-log CSV", file=name)
    has_header = not _looks_like_time(rows[0][0].strip())
    if has_header:
        header, body, first_line = [c.strip() for c in rows[0]], rows[1:], 2
    else:
        header, body, first_line = _configured_columns(options, name), rows, 1
    at = _time_index(header, options, name)
    if has_header and (len(header) < 2 or (body and not _looks_like_time(_cell(body[0], at)))):
        raise SourceError(
            "not an Accuenergy data-log CSV: expected a header 'timestamp, <parameter>, …' "
            f"and rows starting with a time; it starts with {text[:60]!r}",
            file=name,
        )
    cells = _columns(body, len(header), stripped=_unpadded(text))
    columns = [(key, cells(col)) for col, key in enumerate(header) if key and col != at]
    return CsvTable(first_line, cells(at), columns)


def _columns(body: list[list[str]], width: int, *, stripped: bool) -> Any:
    """A function giving column `col`'s stripped cells (empty where a row is short).

    `stripped`: no cell has spaces to strip (`_unpadded`).
    """
    if body and min(map(len, body)) >= width:  # every row complete: transpose in C
        transposed = list(zip(*body, strict=False))
        if stripped:
            return lambda col: list(transposed[col])
        return lambda col: list(map(str.strip, transposed[col]))
    return lambda col: [_cell(row, col) for row in body]


def _unpadded(text: str) -> bool:
    """Whether no cell of a CSV text can have anything for `str.strip` to take: a plain
    CSV (no quotes: line ends never inside a cell) without spaces, tabs or ``\x1f``."""
    return is_plain_csv(text) and not any(blank in text for blank in (" ", "\t", "\x1f"))


def _cell(row: list[str], col: int) -> str:
    return row[col].strip() if col < len(row) else ""


def _time_index(header: list[str], options: Mapping[str, Any], name: str) -> int:
    wanted = str(options.get("time_column") or "").strip()
    if not wanted:
        return 0
    lowered = [h.lower() for h in header]
    if wanted.lower() not in lowered:
        raise SourceError(
            f"no time column {wanted!r} (device option time_column) among the columns "
            f"{', '.join(header[:12])}",
            file=name,
        )
    return lowered.index(wanted.lower())


def _looks_like_time(cell: str) -> bool:
    if cell.lower() in TIME_HEADERS:
        return False
    return _STARTS_LIKE_TIME.match(cell) is not None


def _configured_columns(options: Mapping[str, Any], name: str) -> list[str]:
    """The header of a CSV without one: the ``columns`` option, the time column first if unnamed."""
    columns = [str(c).strip() for c in options.get("columns") or []]
    if not columns:
        raise SourceError(
            "CSV has no header row and the device has no column list; set the device's "
            "'columns' option (parameter keys after the timestamp, in file order)",
            file=name,
        )
    time_column = str(options.get("time_column") or "").strip().lower()
    named = {c.lower() for c in columns}
    if (time_column and time_column in named) or columns[0].lower() in TIME_HEADERS:
        return columns
    return ["timestamp", *columns]
