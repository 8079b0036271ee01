"""Columns to text for EnergyCAP payloads, each distinct value formatted once.

Ids, instants and numbers repeat across millions of readings, so a column
becomes `Words`: its distinct texts and each row's index into them. An import
file's rows are then joined piece by piece (`joined_pieces`), so the text of a
whole batch is never held at once. Instants on a regular grid (half-hours) get
their index by arithmetic instead of hashing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from app.core import string_codes

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S+00:00"
ISO_CSV_FORMAT = "%Y-%m-%d %H:%M:%S+00:00"
NS = 1_000_000_000
GRID_STEPS = (1800, 900, 300, 60, 1)  # seconds; the first that fits the instants wins


@dataclass(frozen=True)
class Words:
    """A column as its distinct texts (`words`) and each row's index into them."""

    words: Any
    indices: Any

    def rows(self, start: int = 0, stop: int | None = None) -> Any:
        """The text of rows [start, stop) as a pyarrow string array."""
        stop = len(self.indices) if stop is None else stop
        return pc.take(self.words, self.indices.slice(start, stop - start))


def _grid(times: pd.Series) -> tuple[Any, np.ndarray[Any, Any]] | None:
    """(the instants of a regular grid of whole seconds as timestamp[s], each row's index)
    for tz-aware times; None when a time is missing or has a fraction of a second, or
    the grid would be sparse (hashing the instants is then cheaper)."""
    if not isinstance(times.dtype, pd.DatetimeTZDtype) or not len(times):
        return None
    if times.dtype.unit == "ns":
        ns = np.asarray(times.array.asi8)  # UTC nanoseconds, no copy
    else:
        ns = pd.to_datetime(times, utc=True).to_numpy(dtype="datetime64[ns]").view("int64")
    first = int(ns.min())
    if first == np.iinfo("int64").min or first % NS:
        return None
    offsets = ns - first
    span = int(offsets.max())
    for step in GRID_STEPS:
        if span // (step * NS) + 1 > len(ns) + 100_000:
            return None
        codes = offsets // (step * NS)
        if bool((codes * (step * NS) == offsets).all()):
            grid = first // NS + np.arange(span // (step * NS) + 1, dtype="int64") * step
            return pa.array(grid, type=pa.timestamp("s")), codes
    return None


def instants(times: pd.Series) -> np.ndarray[Any, Any]:
    """Times as int64 to compare with each other (their own values when tz-aware: no copy)."""
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        return np.asarray(times.array.asi8)
    return times.to_numpy(dtype="datetime64[ns]").view("int64")  # type: ignore[no-any-return]


def time_words(times: pd.Series, fmt: str = ISO_FORMAT) -> Words:
    """Tz-aware times in UTC formatted by `fmt`; the two ISO formats by a cast (20x
    faster than strftime), each distinct instant once."""
    found = _grid(times) if fmt in (ISO_FORMAT, ISO_CSV_FORMAT) else None
    if found is not None:
        distinct, indices = found[0], pa.array(found[1])
    else:
        utc = pd.to_datetime(times, utc=True)
        array = pa.array(utc.dt.tz_convert("UTC").dt.tz_localize(None), type=pa.timestamp("s"))
        encoded = pc.dictionary_encode(array)
        distinct, indices = encoded.dictionary, encoded.indices
    if fmt not in (ISO_FORMAT, ISO_CSV_FORMAT):
        return Words(pc.strftime(distinct, format=fmt), indices)
    text = pc.cast(distinct, pa.string())  # "YYYY-MM-DD HH:MM:SS"
    if fmt == ISO_FORMAT:
        text = pc.replace_substring(text, " ", "T", max_replacements=1)
    return Words(pc.binary_join_element_wise(text, "+00:00", ""), indices)


def number_words(values: Any, suffix: str = "") -> Words:
    """Float64 values as plain decimal strings (+ suffix)."""
    encoded = pc.dictionary_encode(pa.array(values, type=pa.float64()))
    words = pc.cast(encoded.dictionary, pa.string())
    if suffix:
        words = pc.binary_join_element_wise(words, suffix, "")
    return Words(words, encoded.indices)


def text_words(values: pd.Series, suffix: str = "") -> Words | Any:
    """CSV cells of a string column (+ suffix), quoted when they hold a delimiter, quote
    or line break; a pyarrow scalar (the suffix) when every value is missing."""
    if string_codes.arrow(values).null_count == len(values):
        return pa.scalar(suffix)
    encoded = string_codes.encoded(values)
    words = encoded.dictionary.fill_null("").cast(pa.string())
    needs = pc.match_substring_regex(words, '[",\r\n]')
    if pc.any(needs).as_py():
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(words, '"', '""'), '"', "")
        words = pc.if_else(needs, quoted, words)
    if suffix:
        words = pc.binary_join_element_wise(words, suffix, "")
    return Words(words, encoded.indices)


def joined_pieces(columns: list[Any], count: int, rows: int) -> Iterator[Any]:
    """The rows of `columns` (Words, pyarrow arrays or scalars) joined by commas, as
    buffers of at most `rows` rows each.

    With Words and scalars only (the usual case), the separators are put into the
    words and each piece is one `take` of the words, row by row, column by column:
    the taken strings' bytes are the text itself.
    """
    laid = _lay_out(columns, count)
    for start in range(0, count, rows):
        stop = min(start + rows, count)
        if laid is None:
            parts = [_rows(column, start, stop) for column in columns]
            yield string_buffer(pc.binary_join_element_wise(*parts, ","))
        else:
            words, indices = laid
            yield string_buffer(pc.take(words, pa.array(indices[start:stop].ravel())))


def _lay_out(columns: list[Any], count: int) -> tuple[Any, np.ndarray[Any, Any]] | None:
    """(every column's words with their separators, one array; [rows, columns] indices
    into it), or None when a column is a per-row array or holds a missing text (a
    missing text drops its row: kept as the element-wise join does it)."""
    texts: list[Any] = []
    indices: list[np.ndarray[Any, Any]] = []
    literal = ""  # scalars before the first Words
    for number, column in enumerate(columns):
        sep = "," if number < len(columns) - 1 else ""
        if isinstance(column, Words) and not column.words.null_count:
            words = pc.binary_join_element_wise(literal, column.words.cast(pa.string()), sep, "")
            texts.append(words)
            indices.append(column.indices.to_numpy(zero_copy_only=False))
            literal = ""
        elif isinstance(column, pa.Scalar) and column.is_valid and not isinstance(column, Words):
            text = str(column.as_py()) + sep
            if texts:
                texts[-1] = pc.binary_join_element_wise(texts[-1], text, "")
            else:
                literal += text
        else:
            return None
    if not texts:
        return None
    laid = np.empty((count, len(texts)), dtype="int32")
    base = 0
    for number, (words, index) in enumerate(zip(texts, indices, strict=True)):
        np.add(index, np.int64(base), out=laid[:, number], casting="unsafe")
        base += len(words)
    return pa.concat_arrays(texts), laid


def _rows(column: Any, start: int, stop: int) -> Any:
    if isinstance(column, Words):
        return column.rows(start, stop)
    if isinstance(column, pa.Array):
        return column.slice(start, stop - start)
    return column  # a scalar, the same for every row


def flag_words(flags: np.ndarray[Any, Any], mark: str) -> Words:
    """`mark` where a boolean flag is set, else an empty cell."""
    return Words(pa.array(["", mark]), pa.array(flags.astype("int8")))


def string_buffer(array: Any) -> Any:
    """The concatenated UTF-8 of a null-free pyarrow string array, as one buffer (no copy)."""
    if isinstance(array, pa.ChunkedArray):
        return b"".join(bytes(string_buffer(chunk)) for chunk in array.chunks)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    first = int(offsets[array.offset])
    last = int(offsets[array.offset + len(array)])
    data = array.buffers()[2]
    return memoryview(data.slice(first, last - first)) if data is not None else b""
