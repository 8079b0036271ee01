"""One row per meter per day ("48-column" files): a chunk of rows to readings.

Each row's values form a [rows, slots] matrix; the `DayTable` of the chunk's
dates says where every slot lands in UTC, which days are clock-change days
and which rows cannot be placed (held back). Everything is numpy/Arrow column
work; no Python runs per reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import Problem, ProblemKind, ReadingBatch
from connectors.tabular.cells import (
    Chunk,
    DateParser,
    channel_labels,
    column_at,
    flag_codes,
    large,
    numbers,
    origins_by_slot,
    readings_frame,
    rows_repeated,
    string_codes_of,
    trimmed,
    units_and_suffixes,
)
from connectors.tabular.dates import HALF_HOUR_NS, DayTable, day_table
from connectors.tabular.gaps import GapNotes, expected_cells
from connectors.tabular.layout import Plan, ValueColumn

LONG_DAY = (
    "the local day has {p} half-hours (clocks went back) but a {n}-column file cannot hold them"
)
SHORT_DAY = "the local day has {p} half-hours{change} but the file has values for {what}"


@dataclass
class WideReader:
    """Reads chunks of a wide file by its plan; remembers held-back days across chunks."""

    plan: Plan
    file: str
    tz: str
    accept_ambiguous: bool = False
    dates: DateParser = field(default_factory=DateParser)
    held: dict[tuple[date, str], list[Any]] = field(default_factory=dict)
    dropped_by_rule: int = 0
    _known: dict[int, int] = field(default_factory=dict)
    _all: DayTable | None = None
    gaps: GapNotes | None = None
    rows_with_id: int = 0  # rows read that name a meter
    last_data_line: int = 0  # physical line of the last of them

    def __post_init__(self) -> None:
        self.gaps = GapNotes(self.file)

    def convert(self, batch: pa.RecordBatch, chunk: Chunk) -> ReadingBatch:
        """Readings of one chunk of rows."""
        ids = large(trimmed(column_at(batch, self.plan.id_index)))
        date_label = self.plan.labels[self.plan.date_index]
        date_cells = column_at(batch, self.plan.date_index)
        codes, days = self.dates.parse(date_cells, chunk, date_label)
        filled_days = np.where(np.isnat(days), np.datetime64(0, "D"), days)
        if not len(filled_days):  # no date at all (blank or footer lines): a stand-in, never used
            filled_days = np.zeros(1, dtype="datetime64[D]")
        table = self._day_table(filled_days)
        row_est, row_missing = self._row_flags(batch)
        quantity, suffix = self._units(batch)
        has_id = pc.is_valid(ids).to_numpy(zero_copy_only=False)
        self._count_rows(has_id, chunk, ids)
        ok = has_id & (codes >= 0) & ~row_missing
        no_date = (codes < 0) & ~pc.is_valid(trimmed(date_cells)).to_numpy(zero_copy_only=False)
        parts = []
        for first, block in enumerate(self._blocks()):
            rows = (ids, codes, days, table, ok, row_est, no_date if first == 0 else None)
            parts.append(
                self._block(batch, chunk, block, rows)
                | {"quantity_row": quantity, "suffix_row": suffix}
            )
        chunk.close()
        frame, encodings = _assemble(parts, chunk, self.file, self.plan)
        info: dict[str, Any] = {"string_codes": encodings} if encodings else {}
        if self.plan.label_index is not None:  # the site names the layout declares
            info["labels"] = channel_labels(ids, column_at(batch, self.plan.label_index))
        return ReadingBatch(frame, chunk.problems, info)

    def _count_rows(self, has_id: Any, chunk: Chunk, ids: Any) -> None:
        named = np.flatnonzero(has_id)
        self.rows_with_id += len(named)
        if len(named):
            self.last_data_line = int(chunk.lines[named[-1]])
            assert self.gaps is not None
            self.gaps.mangled_ids(ids, chunk.lines)

    def _day_table(self, days: np.ndarray[Any, Any]) -> DayTable:
        """The DayTable of these dates, each date worked out once per file."""
        keys = days.astype("int64")
        new = np.setdiff1d(keys, np.fromiter(self._known, dtype="int64"))
        if len(new):
            found = day_table(new.astype("datetime64[D]"), self.tz)
            start = len(self._known)
            self._known.update({int(k): start + i for i, k in enumerate(new)})
            self._all = found if self._all is None else _stack(self._all, found)
        assert self._all is not None
        where = np.array([self._known[int(k)] for k in keys], dtype="int64")
        table = self._all
        return DayTable(
            table.midnight_ns[where],
            table.periods[where],
            table.elapsed[where],
            table.ambiguous[where],
        )

    def _blocks(self) -> list[list[ValueColumn]]:
        by_quantity: dict[str, list[ValueColumn]] = {}
        for value in self.plan.values:
            by_quantity.setdefault(value.quantity, []).append(value)
        return [sorted(block, key=lambda v: v.slot) for block in by_quantity.values()]

    def _row_flags(self, batch: pa.RecordBatch) -> tuple[np.ndarray[Any, Any], Any]:
        n = batch.num_rows
        if self.plan.row_flag_index is None:
            return np.zeros(n, bool), np.zeros(n, bool)
        return flag_codes(column_at(batch, self.plan.row_flag_index))

    def _units(self, batch: pa.RecordBatch) -> tuple[Any, Any]:
        if self.plan.units_index is None:
            return None, None
        return units_and_suffixes(column_at(batch, self.plan.units_index), self.plan)

    def _matrix(
        self, batch: pa.RecordBatch, chunk: Chunk, block: list[ValueColumn]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        n, width = batch.num_rows, len(block)
        values = np.empty((n, width), dtype="float64")
        estimated = np.zeros((n, width), dtype=bool)
        for j, col in enumerate(block):
            values[:, j] = numbers(column_at(batch, col.index), chunk, col.label)
            if col.flag_index is not None:
                est, missing = flag_codes(column_at(batch, col.flag_index))
                estimated[:, j] = est
                values[missing, j] = np.nan
        slots = np.array([v.slot for v in block], dtype="int64")
        return values, estimated, slots

    def _block(
        self, batch: pa.RecordBatch, chunk: Chunk, block: list[ValueColumn], rows: tuple[Any, ...]
    ) -> dict[str, Any]:
        ids, codes, days, table, ok, row_est, no_date = rows
        values, estimated, slots = self._matrix(batch, chunk, block)
        if no_date is not None:
            self._name_orphans(ids, values, chunk, no_date)
        filled = ~np.isnan(values) & ok[:, None]
        dcode = np.maximum(codes, 0)
        if self.plan.basis == "period":  # zeros past the day's last period are padding
            beyond = slots[None, :] >= table.periods[dcode][:, None]
            filled &= ~(beyond & (values == 0))
        day_offsets, held, dropped = self._place(filled, slots, dcode, table)
        self._note_held(held, dcode, days, ids, table, filled)
        named = _named_cells(chunk, {v.label for v in block})
        found = (ids, days, dcode, chunk.lines, ok & ~held, named)
        self._note_gaps(values, found, table, slots, no_date)
        keep = filled
        keep[held] = False
        if dropped is not None:
            keep &= ~dropped
        flat = np.flatnonzero(keep.ravel())  # row-major: by row, then half-hour
        width = len(slots)
        counts = keep.sum(axis=1)
        ri = np.repeat(np.arange(len(keep), dtype="int64"), counts)
        si = flat - ri * width
        # UTC end of every (date of the chunk, slot); each reading takes its own
        day_times = (table.midnight_ns + HALF_HOUR_NS)[:, None] + day_offsets * HALF_HOUR_NS
        return {
            "ri": ri,
            "si": si,
            "counts": counts,
            "time": day_times.ravel()[dcode[ri] * width + si],
            "value": values.ravel()[flat],
            "estimated": self._estimated(estimated, block, flat, row_est, ri),
            "ids": ids,
            "labels": [v.label for v in block],
            "quantity": block[0].quantity,
        }

    def _estimated(
        self, cells: Any, block: list[ValueColumn], flat: Any, row_est: Any, ri: Any
    ) -> np.ndarray[Any, Any]:
        """The estimated flag of each reading (none to gather when the file has no flags)."""
        if self.plan.row_flag_index is None and all(v.flag_index is None for v in block):
            return np.zeros(len(flat), dtype=bool)
        return cells.ravel()[flat] | row_est[ri]  # type: ignore[no-any-return]

    def _note_gaps(
        self, values: Any, rows: tuple[Any, ...], table: DayTable, slots: Any, first: Any
    ) -> None:
        """Warn of blank half-hours (a wholly blank row only in the first quantity block)."""
        assert self.gaps is not None
        ids, days, dcode, lines, keep, named = rows
        found = {"ids": ids, "days": days, "dcode": dcode, "lines": lines, "keep": keep}
        expected = expected_cells(self.plan.basis == "clock", table, slots)
        self.gaps.blank_cells(found, values, expected, first is not None, named)

    def _name_orphans(self, ids: Any, values: Any, chunk: Chunk, no_date: Any) -> None:
        """Name rows that have values but no meter id or no date (they cannot be sent)."""
        no_id = ~pc.is_valid(ids).to_numpy(zero_copy_only=False)
        if not (no_id.any() or no_date.any()):
            return
        has_values = ~np.isnan(values).all(axis=1)
        label = self.plan.labels[self.plan.id_index]
        for row in np.flatnonzero(no_id & has_values)[:20]:
            chunk.bad(int(row), label, "", "the row has values but no meter id; it is skipped")
        label = self.plan.labels[self.plan.date_index]
        for row in np.flatnonzero(no_date & ~no_id & has_values)[:20]:
            chunk.bad(int(row), label, "", "the row has values but no date; it is skipped")

    def _place(
        self, filled: Any, slots: Any, dcode: Any, table: DayTable
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
        """(elapsed half-hour of each slot per date of the chunk, held-back rows, cells
        dropped by the accept rule or None). Worked out per date, then spread to rows."""
        has = filled.any(axis=1)
        if self.plan.basis == "clock":
            day_offsets = table.elapsed[:, slots]
            impossible = _per_day_cells(filled, dcode, day_offsets < 0)
            long_day = np.asarray(table.ambiguous.any(axis=1))[dcode]
        else:
            day_offsets = np.broadcast_to(slots, (len(table.periods), len(slots)))
            impossible = _per_day_cells(filled, dcode, slots[None, :] >= table.periods[:, None])
            long_day = len(slots) < table.periods[dcode]
        if self.accept_ambiguous:
            self.dropped_by_rule += int(impossible.sum())
            return day_offsets, np.zeros(len(has), dtype=bool), impossible
        held = impossible.any(axis=1) | (long_day & has)
        return day_offsets, held, None

    def _note_held(
        self, held: Any, dcode: Any, days: Any, ids: Any, table: DayTable, filled: Any
    ) -> None:
        for row in np.flatnonzero(held):
            day = days[dcode[row]].astype(date)
            periods = int(table.periods[dcode[row]])
            reason = _reason(periods, self.plan, filled[row])
            entry = self.held.setdefault((day, reason), [0, ids[int(row)].as_py()])
            entry[0] += 1

    def held_problems(self) -> list[Problem]:
        """One HELD_BACK problem per held day (and reason), plus the accept-rule note."""
        from connectors.tabular.cells import held_problem

        found = [
            held_problem(day, reason, self.file, count, str(source))
            for (day, reason), (count, source) in sorted(self.held.items())
        ]
        if self.dropped_by_rule:
            message = (
                f"{self.dropped_by_rule} values at wall-clock times that do not exist on a "
                "clock-change day were not sent (--accept-ambiguous-days rule)"
            )
            found.append(
                Problem(ProblemKind.WARNING, message, self.file, count=self.dropped_by_rule)
            )
        assert self.gaps is not None
        return found + self.gaps.problems()


def _named_cells(chunk: Chunk, labels: set[str]) -> dict[int, int]:
    """How many cells of these columns each line has named as bad values."""
    named: dict[int, int] = {}
    for problem in chunk.problems:
        if problem.kind == ProblemKind.BAD_VALUE and problem.column in labels and problem.line:
            named[problem.line] = named.get(problem.line, 0) + 1
    return named


def _per_day_cells(filled: Any, dcode: Any, per_day: Any) -> np.ndarray[Any, Any]:
    """`filled & per_day[dcode]`, spreading only the rows whose date has a True cell."""
    out: np.ndarray[Any, Any] = np.zeros_like(filled)
    rows = np.flatnonzero(per_day.any(axis=1)[dcode])
    if len(rows):
        out[rows] = filled[rows] & per_day[dcode[rows]]
    return out


def _stack(first: DayTable, second: DayTable) -> DayTable:
    return DayTable(
        np.concatenate([first.midnight_ns, second.midnight_ns]),
        np.concatenate([first.periods, second.periods]),
        np.vstack([first.elapsed, second.elapsed]),
        np.vstack([first.ambiguous, second.ambiguous]),
    )


def _reason(periods: int, plan: Plan, row_filled: Any) -> str:
    width = len(row_filled)
    if periods > width:
        return LONG_DAY.format(p=periods, n=width)
    clock = plan.basis == "clock"
    what = "wall-clock times that do not exist" if clock else f"periods beyond {periods}"
    change = " (clocks went forward)" if periods < 48 else ""
    return SHORT_DAY.format(p=periods, change=change, what=what)


def _assemble(
    parts: list[dict[str, Any]], chunk: Chunk, file: str, plan: Plan
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The readings frame of the chunk, and the encodings of its string columns (see
    `string_codes_of`) when it is one part (one quantity): else an empty dict."""
    frames, encodings = [], {}
    for part in parts:
        ri = part["ri"]
        n = len(ri)
        index = pa.array(ri, type=pa.int64())
        per_row = part["ids"]  # the source id of each row of the chunk
        quantity: Any = part["quantity"]
        if part["quantity_row"] is not None:
            quantity = pc.take(part["quantity_row"], index)
            empty = pa.scalar("", pa.large_string())
            per_row = pc.binary_join_element_wise(per_row, part["suffix_row"], empty)
        source = rows_repeated(per_row, part["counts"])
        origin = origins_by_slot(
            Path(file).name, chunk.lines, part["labels"], ri, part["si"], part["counts"]
        )
        columns = {
            "source_id": source,
            "quantity": quantity,
            "time": part["time"],
            "value": part["value"],
            "estimated": part["estimated"],
            "origin": origin,
        }
        frames.append(readings_frame(columns, n))
        encodings = string_codes_of(per_row, part["counts"], quantity)
    if len(frames) == 1:
        return frames[0], encodings
    return pd.concat(frames, ignore_index=True), {}
