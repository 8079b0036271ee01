"""Row-per-reading half-hourly exports (`MPR, ReadDatetime, kWh, ReadType`).

Each row is one half-hour labelled by its end (or start) in local wall-clock
time. On the long autumn day the repeated hour is placed by the order of the
rows per meter (see `connectors.tabular.clock`): before the time drops back is
summer time, after it the repeat. Rows whose order cannot tell are held back.
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
from connectors.tabular import cells
from connectors.tabular.cells import Chunk, DateParser, column_at
from connectors.tabular.clock import first_occurrence, open_rows, place_long
from connectors.tabular.dates import DATETIME_FORMATS, HALF_HOUR_NS
from connectors.tabular.gaps import GapNotes
from connectors.tabular.layout import Plan

NAT = np.iinfo("int64").min


@dataclass
class Rows:
    """The cells of a chunk's rows that the readings are made of."""

    ids: Any  # Arrow large_string
    stamps: np.ndarray[Any, Any]  # naive wall time, int64 ns (NAT: unreadable)
    values: np.ndarray[Any, Any]
    estimated: np.ndarray[Any, Any]
    missing: np.ndarray[Any, Any]
    lines: np.ndarray[Any, Any]
    quantity: Any = None  # Arrow large_string per row, when the file has a units column

    def take(self, rows: np.ndarray[Any, Any]) -> Rows:
        """These rows only."""
        index = pa.array(rows, type=pa.int64())
        quantity = None if self.quantity is None else pc.take(self.quantity, index)
        return Rows(
            pc.take(self.ids, index), self.stamps[rows], self.values[rows],
            self.estimated[rows], self.missing[rows], self.lines[rows], quantity,
        )  # fmt: skip

    def then(self, other: Rows) -> Rows:
        """These rows followed by `other`'s."""
        stamps, values, estimated, missing, lines = (
            np.concatenate([mine, theirs])
            for mine, theirs in (
                (self.stamps, other.stamps), (self.values, other.values),
                (self.estimated, other.estimated), (self.missing, other.missing),
                (self.lines, other.lines),
            )
        )  # fmt: skip
        quantity = None
        if self.quantity is not None:
            quantity = pa.concat_arrays([self.quantity, other.quantity])
        ids = pa.concat_arrays([self.ids, other.ids])
        return Rows(ids, stamps, values, estimated, missing, lines, quantity)


@dataclass
class LongReader:
    """Reads chunks of a row-per-reading file."""

    plan: Plan
    file: str
    tz: str
    accept_ambiguous: bool = False
    dates: DateParser = field(default_factory=lambda: DateParser(DATETIME_FORMATS))
    held: dict[tuple[date, str], list[Any]] = field(default_factory=dict)
    carry: Rows | None = None
    rows_with_id: int = 0  # rows read that name a meter
    last_data_line: int = 0  # physical line of the last of them
    notes: GapNotes | None = None
    labels: dict[str, str] = field(default_factory=dict)  # source id -> site name

    def __post_init__(self) -> None:
        self.notes = GapNotes(self.file)

    def convert(self, batch: pa.RecordBatch, chunk: Chunk) -> ReadingBatch:
        """Readings of one chunk of rows (with the rows carried from the chunk before)."""
        plan = self.plan
        assert plan.value_index is not None
        value_label = plan.labels[plan.value_index]
        estimated, missing = self._flags(batch)
        ids, quantity = self._ids(batch, chunk)
        rows = Rows(
            ids,
            self._stamps(batch, chunk),
            cells.numbers(column_at(batch, plan.value_index), chunk, value_label),
            estimated,
            missing,
            chunk.lines,
            quantity,
        )
        if self.carry is not None:
            rows, self.carry = self.carry.then(rows), None
            chunk.lines = rows.lines  # problems above were recorded with the block's lines
        return self._emit(rows, chunk, final=False)

    def _ids(self, batch: pa.RecordBatch, chunk: Chunk) -> tuple[Any, Any]:
        """(source id, quantity or None) of each row; a units column (e.g. Channel Type)
        gives the quantity and, for some words, a suffix of the source id."""
        ids = cells.large(cells.trimmed(column_at(batch, self.plan.id_index)))
        if self.plan.label_index is not None:  # the site names the layout declares
            found = cells.channel_labels(ids, column_at(batch, self.plan.label_index))
            self.labels = found | self.labels
        has_id = np.flatnonzero(pc.is_valid(ids).to_numpy(zero_copy_only=False))
        self.rows_with_id += len(has_id)
        if len(has_id):
            self.last_data_line = int(chunk.lines[has_id[-1]])
            assert self.notes is not None
            self.notes.mangled_distinct(ids, chunk.lines)
        if self.plan.units_index is None:
            return ids, None
        units = column_at(batch, self.plan.units_index)
        quantity, suffix = cells.units_and_suffixes(units, self.plan)
        empty = pa.scalar("", pa.large_string())
        return cells.large(pc.binary_join_element_wise(ids, suffix, empty)), quantity

    def flush(self) -> ReadingBatch | None:
        """The rows still carried at the end of the file, placed as they are."""
        if self.carry is None:
            return None
        rows, self.carry = self.carry, None
        return self._emit(rows, Chunk(self.file, rows.lines), final=True)

    def _emit(self, rows: Rows, chunk: Chunk, final: bool) -> ReadingBatch:
        plan = self.plan
        assert plan.value_index is not None
        ok = pc.is_valid(rows.ids).to_numpy(zero_copy_only=False) & (rows.stamps != NAT)
        ok &= ~rows.missing & ~np.isnan(rows.values)
        start = rows.stamps - (HALF_HOUR_NS if plan.layout.long_label == "end" else 0)
        utc, tail = self._localize(start, rows.ids, ok, chunk, final)
        if tail.any():
            self.carry = rows.take(np.flatnonzero(tail))
        keep = np.flatnonzero(ok & (utc != NAT) & ~tail)
        label = pa.scalar(plan.labels[plan.value_index])
        taken = pa.array(keep, type=pa.int64())
        columns = {
            "source_id": pc.take(rows.ids, taken),
            "quantity": "kWh" if rows.quantity is None else pc.take(rows.quantity, taken),
            "time": utc[keep] + HALF_HOUR_NS,
            "value": rows.values[keep],
            "estimated": rows.estimated[keep],
            "origin": cells.origins(Path(self.file).name, rows.lines[keep], label),
        }
        chunk.close()
        info = {"labels": dict(self.labels)} if self.labels else {}
        return ReadingBatch(cells.readings_frame(columns, len(keep)), chunk.problems, info)

    def _stamps(self, batch: pa.RecordBatch, chunk: Chunk) -> np.ndarray[Any, Any]:
        plan = self.plan
        label = plan.labels[plan.date_index]
        text = cells.trimmed(column_at(batch, plan.date_index))
        if self.dates.fmt is None:
            self.dates.fmt = _guess(text.drop_null().to_pylist()[:200])
        parsed = pd.to_datetime(text.to_pandas(), format=self.dates.fmt, errors="coerce")
        stamps = parsed.to_numpy(dtype="datetime64[ns]").astype("int64")
        for row in np.flatnonzero(
            (stamps == NAT) & pc.is_valid(text).to_numpy(zero_copy_only=False)
        ):
            chunk.bad(int(row), label, str(text[int(row)].as_py()), "not a date and time; skipped")
        return stamps  # type: ignore[no-any-return]

    def _flags(self, batch: pa.RecordBatch) -> tuple[np.ndarray[Any, Any], Any]:
        if self.plan.long_flag_index is None:
            n = batch.num_rows
            return np.zeros(n, bool), np.zeros(n, bool)
        return cells.flag_codes(column_at(batch, self.plan.long_flag_index))

    def _localize(
        self, start: Any, ids: Any, ok: Any, chunk: Chunk, final: bool
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(UTC interval starts, rows to carry): clock-change days by file order, the
        undecidable held back; runs open at the chunk's end are carried, not judged."""
        rows = np.flatnonzero(ok)
        utc = np.full(len(start), NAT, dtype="int64")
        tail = np.zeros(len(start), dtype=bool)
        if not len(rows):
            return utc, tail
        keys = pd.Series(pc.take(ids, pa.array(rows, type=pa.int64())).to_pandas())
        wall = np.asarray(start[rows], dtype="int64")
        end_labelled = self.plan.layout.long_label == "end"
        placed = place_long(keys, wall, self.tz, end_labelled)
        carried = np.zeros(len(rows), dtype=bool)
        if not final:
            carried = open_rows(keys, wall, self.tz, end_labelled)
            tail[rows[carried]] = True
        utc[rows] = placed.start
        held = placed.held & ~carried
        if self.accept_ambiguous and held.any():
            utc[rows[held]] = first_occurrence(wall[held], self.tz)
        elif held.any():
            self._hold_rows(keys, wall, held)
        label = self.plan.labels[self.plan.date_index]
        for row in rows[placed.nonexistent & ~carried][:50]:
            shown = pd.Timestamp(int(start[row]) + (HALF_HOUR_NS if end_labelled else 0))
            chunk.bad(
                int(row),
                label,
                str(shown),
                f"this wall-clock time does not exist in {self.tz}; skipped",
            )
        return utc, tail

    def _hold_rows(self, keys: pd.Series, wall: Any, held: Any) -> None:
        days = pd.DatetimeIndex(wall[held].view("datetime64[ns]")).date
        for day, source in zip(days, keys[held].tolist(), strict=True):
            self._hold(day, str(source))

    def _hold(self, day: date, source: str) -> None:
        reason = (
            "the order of the rows cannot tell which of the repeated clock-change "
            "half-hours they are"
        )
        entry = self.held.setdefault((day, reason), [0, source])
        entry[0] += 1

    def held_problems(self) -> list[Problem]:
        """One HELD_BACK problem per held day: only the undecidable rows are held."""
        found = []
        for (day, reason), (count, source) in sorted(self.held.items()):
            rows = f"{count} reading{'s' if count != 1 else ''}"
            message = (
                f"{day.isoformat()} held back ({rows}, first of source {source}): {reason}; "
                "those readings were not sent, the rest of the day was (use "
                "--accept-ambiguous-days to send them at the first occurrence)"
            )
            found.append(
                Problem(
                    ProblemKind.HELD_BACK, message, self.file, day=day, source_id=str(source),
                    count=count,
                )
            )  # fmt: skip
        assert self.notes is not None
        return found + self.notes.problems()


def _guess(samples: list[Any]) -> str:
    from connectors.tabular.dates import guess_format

    return guess_format(samples, DATETIME_FORMATS) or DATETIME_FORMATS[0]
