"""Cell-level helpers of the tabular engine: numbers, flags, dates, problems, output frames.

Everything works on whole pyarrow/numpy columns of a chunk; a Python loop
only ever runs over problems (bad cells), never over readings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.base import READING_COLUMNS, Problem, ProblemKind, printable
from connectors.finite import NOT_FINITE
from connectors.tabular.dates import date_formats, guess_format, parse_dates
from connectors.tabular.layout import Plan, units_of

ESTIMATED_FLAGS = ["E", "EST", "ESTIMATE", "ESTIMATED", "ESTIMATION"]
MISSING_FLAGS = ["-", "N/A", "MISSING", "NO DATA"]
MAX_CELL_PROBLEMS = 200
MAX_PARSED_DATES = 100_000  # parsed date texts remembered per file


@dataclass
class Chunk:
    """Where a chunk of rows sits in its file, and the problems met in it."""

    file: str
    lines: np.ndarray[Any, np.dtype[np.int64]]  # physical 1-based line of each row
    problems: list[Problem] = field(default_factory=list)
    dropped: int = 0

    def bad(self, row: int, label: str, value: str, message: str) -> None:
        """Record one unreadable cell (kept to MAX_CELL_PROBLEMS per chunk, then counted)."""
        if len(self.problems) >= MAX_CELL_PROBLEMS:
            self.dropped += 1
            return
        line = int(self.lines[row])
        self.problems.append(Problem(ProblemKind.BAD_VALUE, message, self.file, line, label, value))

    def close(self) -> None:
        """Add one problem that counts the bad cells not listed one by one."""
        if self.dropped:
            message = f"{self.dropped} more unreadable cells in this part of the file (not listed)"
            self.problems.append(
                Problem(ProblemKind.BAD_VALUE, message, self.file, count=self.dropped)
            )


def column_at(batch: pa.RecordBatch, index: int) -> Any:
    """The Arrow column of header position `index` (read as `c<index>`).

    Raises:
        KeyError: the column was not among those read (Arrow's -1 would
            otherwise hand back the last column, silently the wrong one).
    """
    found = batch.schema.get_field_index(f"c{index}")
    if found < 0:
        raise KeyError(f"column {index + 1} was not read from the file")
    return batch.column(found)


def trimmed(column: Any) -> Any:
    """A string column with surrounding spaces removed and empty cells null."""
    text = pc.utf8_trim_whitespace(column.cast(pa.string()))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def numbers(column: Any, chunk: Chunk, label: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Floats of a value column; NaN for empty, `-` and unreadable cells (each one reported).

    A cell that reads as a number but not a finite one (`inf`, `nan`, `1e400`) is a bad
    value too. When the CSV reader parsed the column as numbers already, such a cell
    raises `pyarrow.ArrowInvalid`, so the block is read again as text and the cell is
    named as written.
    """
    if column.type == pa.float64():  # parsed by the CSV reader already
        parsed = column.to_numpy(zero_copy_only=False)
        if np.count_nonzero(~np.isfinite(parsed)) != column.null_count:
            raise pa.ArrowInvalid(f"a {label} cell is not a finite number")
        return parsed  # type: ignore[no-any-return]
    text = trimmed(column)
    text = pc.if_else(pc.is_in(text, pa.array(MISSING_FLAGS)), pa.scalar(None, pa.string()), text)
    named = None
    try:
        parsed = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        raw = pd.Series(text.to_pandas(), dtype="object")
        parsed = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64")
        spelled = raw.astype("string").str.strip().str.lower().isin(["nan", "+nan", "-nan"])
        named = np.isnan(parsed) & raw.notna().to_numpy() & ~spelled.fillna(False).to_numpy()
        for row in np.flatnonzero(named):
            message = "not a number; this half-hour is not sent"
            chunk.bad(int(row), label, str(raw.iloc[row]), message)
    return _finite(parsed, text, chunk, label, named)


def _finite(
    parsed: Any, text: Any, chunk: Chunk, label: str, named: Any = None
) -> np.ndarray[Any, Any]:
    """`parsed` with each non-finite number of a written cell named and made NaN (missing);
    `named`: the cells named already as not numbers."""
    odd = ~np.isfinite(parsed)
    if not odd.any():
        return parsed  # type: ignore[no-any-return]
    odd &= pc.is_valid(text).to_numpy(zero_copy_only=False)
    if named is not None:
        odd &= ~named
    for row in np.flatnonzero(odd):
        cell = str(text[int(row)].as_py())
        chunk.bad(int(row), label, cell, NOT_FINITE)  # the shared wording (connectors.base)
    parsed = parsed.copy()
    parsed[odd] = np.nan
    return parsed  # type: ignore[no-any-return]


def units_and_suffixes(cells: Any, plan: Plan) -> tuple[Any, Any]:
    """(quantity, source id suffix) of each row from its units cell, by the layout's words."""
    quantities, suffixes = units_of(plan.layout)
    raw = pc.utf8_upper(trimmed(cells))
    mapped = pc.take(
        pa.array(list(quantities.values())), pc.index_in(raw, pa.array(list(quantities)))
    )
    quantity = pc.coalesce(mapped, trimmed(cells))
    suffix = pc.take(pa.array(list(suffixes.values())), pc.index_in(raw, pa.array(list(suffixes))))
    return large(quantity), large(pc.fill_null(suffix, ""))


def flag_codes(column: Any) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(estimated, missing) booleans of a flag column: E/Estimate(d) and `-`."""
    text = pc.utf8_upper(trimmed(column))
    estimated = pc.fill_null(pc.is_in(text, pa.array(ESTIMATED_FLAGS)), False)
    missing = pc.fill_null(pc.is_in(text, pa.array(MISSING_FLAGS)), False)
    return estimated.to_numpy(zero_copy_only=False), missing.to_numpy(zero_copy_only=False)


@dataclass
class DateParser:
    """Parses a date column; the format is guessed once from the first chunk."""

    formats: tuple[str, ...] = field(default_factory=date_formats)
    fmt: str | None = None
    parsed: dict[str, Any] = field(default_factory=dict)  # text -> datetime64[D] (or NaT)

    def parse(self, column: Any, chunk: Chunk, label: str) -> tuple[np.ndarray[Any, Any], Any]:
        """(codes per row, unique datetime64[D] days); code -1 where no date was read."""
        text = trimmed(column)
        encoded = pc.dictionary_encode(text)
        uniques = encoded.dictionary.to_pylist()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype("int64")
        if not uniques:  # a chunk of only blank or footer lines: no date, nothing to guess from
            return np.full(len(codes), -1, dtype="int64"), np.array(["NaT"], "datetime64[D]")
        if self.fmt is None:
            self.fmt = guess_format(uniques, self.formats) or self.formats[0]
        days = self._days(uniques, self.fmt)
        bad = np.isnat(days)
        for unique in np.flatnonzero(bad):
            rows = np.flatnonzero(codes == unique)
            for row in rows[:3]:
                chunk.bad(int(row), label, str(uniques[unique]), "not a date; the row is skipped")
        codes = np.where((codes >= 0) & ~bad[np.maximum(codes, 0)], codes, -1)
        return codes, days

    def _days(self, uniques: list[Any], fmt: str) -> np.ndarray[Any, Any]:
        """`parse_dates` of the texts, each text parsed once per file (blocks share dates)."""
        new = [text for text in uniques if text not in self.parsed]
        if new:
            if len(self.parsed) > MAX_PARSED_DATES:
                self.parsed.clear()
            self.parsed.update(zip(new, parse_dates(new, fmt), strict=True))
        return np.array([self.parsed[text] for text in uniques], dtype="datetime64[D]")


def strings(values: Any, n: int) -> Any:
    """A pandas string column (pyarrow-backed) from an Arrow array or a scalar.

    pandas keeps its strings as Arrow `large_string`; arrays built that way
    (see `large`) are wrapped without a copy.
    """
    if values is None:
        return pd.arrays.ArrowStringArray(pa.nulls(n, pa.large_string()))
    if isinstance(values, str):
        return pd.arrays.ArrowStringArray(repeated(values, n))
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if array.type != pa.large_string():
        array = array.cast(pa.large_string())
    return pd.arrays.ArrowStringArray(array)


def repeated(text: str, n: int) -> Any:
    """A `large_string` array of `text` n times (built from its buffers: no kernel per row)."""
    word = text.encode()
    offsets = np.arange(n + 1, dtype=np.int64) * len(word)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(word * n))


def rows_repeated(per_row: Any, counts: Any) -> Any:
    """`per_row[r]` `counts[r]` times, row after row, as a `large_string` array (the
    source id of each reading): one numpy repeat of fixed-width records when the values
    repeated share one length (MPANs do), else an Arrow take."""
    counts = np.asarray(counts, dtype="int64")
    seen = np.flatnonzero(counts)
    taken = per_row.take(pa.array(seen))
    kind = np.int64 if pa.types.is_large_string(taken.type) else np.int32
    offsets = np.frombuffer(taken.buffers()[1], dtype=kind)[
        taken.offset : taken.offset + len(taken) + 1
    ]
    widths = np.diff(offsets)
    if not len(seen) or taken.null_count or not widths[0] or bool((widths != widths[0]).any()):
        return large(pc.take(per_row, pa.array(np.repeat(seen, counts[seen]))))
    width, total = int(widths[0]), int(counts.sum())
    data = np.frombuffer(taken.buffers()[2], dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    out = np.repeat(data.view((np.void, width)), counts[seen])
    ends = np.arange(total + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(total, pa.py_buffer(ends), pa.py_buffer(out))


def channel_labels(ids: Any, labels: Any) -> dict[str, str]:
    """Source id -> the label (site name) its first row gives, for rows that have both.

    Args:
        ids: the source id of each row (Arrow strings, null when blank).
        labels: the layout's label column (Arrow, any type), row for row.
    """
    names = trimmed(labels)
    both = pc.and_(pc.is_valid(ids), pc.is_valid(names))
    ids, names = pc.filter(ids, both), pc.filter(names, both)
    distinct = pc.unique(ids)  # a few per chunk: no Python runs per row
    first = pc.take(names, pc.index_in(distinct, value_set=ids))
    return {
        str(source): printable(str(label))
        for source, label in zip(distinct.to_pylist(), first.to_pylist(), strict=True)
    }


def large(array: Any) -> Any:
    """An Arrow string array as `large_string` (cheap on per-row arrays; per-reading
    arrays taken from it are then large already and need no copy for pandas)."""
    return array if array.type == pa.large_string() else array.cast(pa.large_string())


def readings_frame(columns: dict[str, Any], n: int) -> pd.DataFrame:
    """The schema frame from prepared columns (no per-row Python)."""
    times = np.asarray(columns["time"], dtype="int64").view("datetime64[ns]")
    quantity = strings(columns["quantity"], n)
    frame = pd.DataFrame(
        {
            "source_id": strings(columns["source_id"], n),
            "quantity": quantity,
            "unit": quantity,
            "time": pd.DatetimeIndex(times).tz_localize("UTC"),
            "interval_s": np.full(n, 1800, dtype="int64"),
            "value": np.asarray(columns["value"], dtype="float64"),
            "estimated": np.asarray(columns["estimated"], dtype="bool"),
            "note": strings(columns.get("note"), n),
            "origin": strings(columns["origin"], n),
        },
        copy=False,
    )
    if tuple(frame.columns) == READING_COLUMNS:  # built in that order: no reindexing
        return frame
    return frame.loc[:, list(READING_COLUMNS)]


def string_codes_of(per_row: Any, counts: Any, quantity: Any) -> dict[str, Any]:
    """Dictionary encodings of `source_id` (and a one-value `quantity`/`unit`) of readings
    made of `counts[row]` readings of each row in turn, the row's id `per_row[row]`.

    Each is what `pyarrow.compute.dictionary_encode` of the reading column gives
    (first-seen order), hashed per row instead of per reading, so the pipeline need
    not encode millions of strings (`app.core.string_codes.remember`).
    """
    counts = np.asarray(counts, dtype="int64")
    seen = np.flatnonzero(counts)  # the rows that gave readings, in order
    if not len(seen):
        return {}
    found = pc.dictionary_encode(per_row.take(pa.array(seen)))
    indices = np.repeat(found.indices.to_numpy(zero_copy_only=False), counts[seen])
    source = pa.DictionaryArray.from_arrays(pa.array(indices), found.dictionary)
    encodings = {"source_id": source}
    if isinstance(quantity, str):
        one = pa.array([quantity], pa.large_string())
        zeros = pa.array(np.zeros(len(indices), dtype="int32"))
        encodings["quantity"] = encodings["unit"] = pa.DictionaryArray.from_arrays(zeros, one)
    return encodings


def origins(file: str, lines: Any, labels: Any, rows: Any = None) -> Any:
    """`file:line:column` for each reading, built by Arrow kernels.

    With `rows` (the row of each reading), `lines` and the `file:line:` prefixes
    are per row and taken per reading, so the join runs once.
    """
    line_text = pc.cast(pa.array(lines, type=pa.int64()), pa.large_string())
    file_text = pa.scalar(file, pa.large_string())
    empty, colon = pa.scalar("", pa.large_string()), pa.scalar(":", pa.large_string())
    prefix = pc.binary_join_element_wise(file_text, line_text, empty, colon)
    labels = large(labels) if isinstance(labels, pa.Array) else labels.cast(pa.large_string())
    if rows is not None:
        prefix = pc.take(prefix, pa.array(rows, type=pa.int64()))
    return pc.binary_join_element_wise(prefix, labels, empty)


def origins_by_slot(
    file: str, lines: Any, labels: list[str], rows: Any, slots: Any, counts: Any = None
) -> Any:
    """`origins` of readings given by (row, slot): one numpy gather when widths are equal.

    Within a block the line numbers usually have one number of digits and the slot
    labels one length, so every origin has the same width: the `file:line:` of each
    row is written by column arithmetic and the bytes are two fixed-width gathers,
    no per-reading string kernel. With `counts` (readings per row; `rows` then go
    row after row) the prefixes are repeated instead of gathered.
    """
    prefixes = _prefix_bytes(file, np.asarray(lines, dtype="int64"))
    names = [label.encode() for label in labels]
    if prefixes is None or len({len(n) for n in names}) != 1 or not len(rows):
        taken = pc.take(pa.array(labels, pa.large_string()), pa.array(slots, type=pa.int64()))
        return origins(file, lines, taken, rows)
    head, tail = prefixes.shape[1], len(names[0])
    cells = np.dtype([("line", np.void, head), ("label", np.void, tail)])
    out = np.empty(len(rows), dtype=cells)  # one fixed-width record per origin
    records = prefixes.view((np.void, head)).ravel()
    # rows go in order: repeating each row's prefix is a sequential copy, unlike a gather
    out["line"] = np.take(records, rows) if counts is None else np.repeat(records, counts)
    out["label"] = np.take(np.frombuffer(b"".join(names), dtype=(np.void, tail)), slots)
    offsets = np.arange(len(rows) + 1, dtype=np.int64) * (head + tail)
    return pa.LargeStringArray.from_buffers(len(rows), pa.py_buffer(offsets), pa.py_buffer(out))


def _prefix_bytes(file: str, lines: np.ndarray[Any, Any]) -> np.ndarray[Any, Any] | None:
    """`file:line:` of each row as a [rows, width] byte matrix; None when line numbers
    have different numbers of digits (or there are none)."""
    if not len(lines) or int(lines.min()) < 1:
        return None
    digits = len(str(int(lines.max())))
    if len(str(int(lines.min()))) != digits:
        return None
    name = f"{file}:".encode()
    out = np.empty((len(lines), len(name) + digits + 1), dtype=np.uint8)
    out[:, : len(name)] = np.frombuffer(name, dtype=np.uint8)
    powers = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)
    out[:, len(name) : -1] = lines[:, None] // powers % 10 + ord("0")
    out[:, -1] = ord(":")
    return out


def held_problem(day: date, reason: str, file: str, count: int, source: str) -> Problem:
    """The HELD_BACK problem of one local day."""
    meters = f"{count} meter row{'s' if count != 1 else ''}"
    message = (
        f"{day.isoformat()} held back ({meters}, first {source}): {reason}; nothing of that "
        "day was sent (use --accept-ambiguous-days to send it by the documented rule)"
    )
    return Problem(ProblemKind.HELD_BACK, message, file, day=day, source_id=source, count=count)
