"""Warnings about what a wide file lacks: blank half-hours in a row, ids Excel rounded.

Neither withholds anything that was in the file (a blank cell is no reading, never
a zero), so both are WARNING problems: the file's exit code stays 0 for them.
At most `MAX_LISTED` meter-days are named one by one per file, then counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Problem, ProblemKind
from connectors.tabular.dates import DayTable

MAX_LISTED = 20
EXCEL_NUMBER = r"^[0-9](\.[0-9]+)?[eE]\+[0-9]+$"  # 1.23405E+12: an MPAN Excel rounded


def expected_cells(clock: bool, table: DayTable, slots: np.ndarray[Any, Any]) -> Any:
    """[dates, slots] True where the date has that half-hour (not a clock-change gap)."""
    if clock:
        return table.elapsed[:, slots] >= 0
    return slots[None, :] < table.periods[:, None]


@dataclass
class GapNotes:
    """The blank-cell and mangled-id warnings of one file."""

    file: str
    listed: list[Problem] = field(default_factory=list)
    more_days: int = 0
    more_cells: int = 0
    ids_seen: set[str] = field(default_factory=set)

    def blank_cells(
        self, rows: dict[str, Any], values: Any, expected: Any, whole: bool, named: dict[int, int]
    ) -> None:
        """Warn of rows with blank half-hours: some of them, or (`whole`) all of them.

        Args:
            rows: `ids`, `days`, `dcode` (date code per row), `lines`, `keep` (rows that
                are read: id, date, not held back).
            values: [rows, slots] floats, NaN where blank.
            expected: [dates, slots] cells the date has.
            whole: whether a row with every half-hour blank is worth a warning (the
                main quantity; an empty reactive block is not).
            named: cells per line already named as bad values (not blank ones).
        """
        blank = np.isnan(values)
        if not blank.any():
            return
        dcode = rows["dcode"]
        blank &= expected[dcode] & rows["keep"][:, None]
        counts = blank.sum(axis=1)
        wanted = expected.sum(axis=1)[dcode]
        noted = (counts > 0) & ((counts < wanted) | whole)
        rows_noted = np.flatnonzero(noted)
        room = max(MAX_LISTED - len(self.listed), 0)
        for row in rows_noted[:room]:
            count = int(counts[row]) - named.get(int(rows["lines"][row]), 0)
            if count > 0:
                self._note(rows, int(row), count, int(wanted[row]))
        rest = rows_noted[room:]  # counted, not listed (no Python per row)
        if len(rest):
            lines = rows["lines"][rest]
            lost = sum(n for line, n in named.items() if line in set(lines.tolist()))
            self.more_days += len(rest)
            self.more_cells += int(counts[rest].sum()) - lost

    def _note(self, rows: dict[str, Any], row: int, count: int, wanted: int) -> None:
        source = str(rows["ids"][row].as_py())
        day: date = rows["days"][rows["dcode"][row]].astype(date)
        message = (
            f"meter {source} on {day.isoformat()}: {count} of {wanted} half-hours are blank "
            "(no reading is sent for them)"
        )
        self.listed.append(
            Problem(
                ProblemKind.WARNING, message, self.file, int(rows["lines"][row]),
                day=day, source_id=source, count=count,
            )
        )  # fmt: skip

    def mangled_ids(self, ids: Any, lines: Any) -> None:
        """Warn once per id written as a rounded number (`1.23405E+12`)."""
        if not len(ids) or pa.types.is_null(ids.type):
            return
        hits = pc.fill_null(pc.match_substring_regex(ids, EXCEL_NUMBER), False)
        for row in np.flatnonzero(hits.to_numpy(zero_copy_only=False)):
            self._mangled(str(ids[int(row)].as_py()), int(lines[row]))

    def mangled_distinct(self, ids: Any, lines: Any) -> None:
        """`mangled_ids` testing each distinct id once (files of a reading per row)."""
        if not len(ids) or pa.types.is_null(ids.type):
            return
        distinct = pc.unique(ids)
        hits = pc.fill_null(pc.match_substring_regex(distinct, EXCEL_NUMBER), False)
        for k in np.flatnonzero(hits.to_numpy(zero_copy_only=False)):
            text = str(distinct[int(k)].as_py())
            self._mangled(text, int(lines[pc.index(ids, text).as_py()]))

    def _mangled(self, text: str, line: int) -> None:
        if text in self.ids_seen:
            return
        self.ids_seen.add(text)
        message = (
            f"the meter id {text!r} is a number Excel rounded (scientific notation): it "
            "has lost digits; its readings are sent under this id (format the column as "
            "text before saving the file)"
        )
        self.listed.append(Problem(ProblemKind.WARNING, message, self.file, line, value=text))

    def problems(self) -> list[Problem]:
        """Every warning, with one that counts the meter-days not listed."""
        found = list(self.listed)
        if self.more_days:
            message = (
                f"{self.more_days} more meter-days have blank half-hours ({self.more_cells} "
                "half-hours in all; not listed)"
            )
            found.append(Problem(ProblemKind.WARNING, message, self.file, count=self.more_cells))
        return found
