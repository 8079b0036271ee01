"""The generic readings CSV connector (the NuOz case, and anything else).

A CSV with one reading per row: a source id, a time and a value, optionally a
quantity, an estimated flag and a note. Columns are chosen by header name or
1-based number (options `id_column`, `time_column`, ...), else recognised
from common header names. The file is read in chunks with pandas' C parser
(all cells as strings, then parsed a column at a time), one batch per chunk.

Times with an offset are kept as given; naive times are local times in the
`tz` option (else `default_tz`; with neither, naive times are refused). On a
fall-back day the repeated hour is placed by the order of the file, per
source; rows whose order cannot tell are held back and named.
"""

from __future__ import annotations

import codecs
import io
import re
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectors.base import ConnectorInfo, Problem, ProblemKind, ReadingBatch, Source, SourceError
from connectors.clock import open_tail, place_local_times
from connectors.generic.cells import ISO, has_offset, pick_time_format
from connectors.generic.layout import (
    Layout,
    choose_columns,
    find_layout,
    says_start,
    says_utc,
)
from connectors.generic.output import OutputRules, learn_intervals, to_readings
from connectors.generic.rows import CellRules, ParsedChunk, parse_chunk
from connectors.generic.sniff import first_line_is_data, numbered_columns, sniff_generic
from connectors.generic.zone import check_zone

# Room for rows longer than the header, so they can be named. A row longer still makes
# the file be read again with room for it (pandas' C parser cannot skip a row without
# losing line numbers); past MAX_CELLS cells in one row the file is refused.
EXTRA_CELLS = 4
MAX_CELLS = 256
_SAW_CELLS = re.compile(r"saw (\d+)")
DEFAULT_CHUNK_ROWS = 500_000
MAX_DEFERRED = 10_000  # rows of not-yet-timed sources carried to the next chunk
_COMMA_DECIMAL = r"^\s*[-+]?\d+,\d+\s*$"
_POINT_DECIMAL = r"^\s*[-+]?\d*\.\d+\s*$"


class GenericCsvConnector:
    """Readings from any CSV with id, time and value columns."""

    info = ConnectorInfo(
        id="generic",
        name="Generic readings CSV",
        description=(
            "One reading per row: id, time, value (+ quantity, estimated, note); "
            "columns by header name or number."
        ),
        file_patterns=("*.csv", "*.txt", "*.tsv"),
    )

    def sniff(self, head: bytes, name: str) -> float:
        """0.65 for a long CSV whose rows read as id, time, value; 0.3 header only; 0.05 CSV."""
        return sniff_generic(head, name)

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        """Yield one batch of readings per chunk of the file.

        Raises:
            SourceError: when the file is not a CSV, the columns cannot be
                decided, or the options are unusable.
        """
        yield from _GenericRead(source, options).batches()


class _GenericRead:
    """The state of reading one file: layout, rules, carried rows, intervals."""

    def __init__(self, source: Source, options: Mapping[str, Any]) -> None:
        self.source = source
        self.options = options
        self.file = source.label
        self.layout: Layout = find_layout(source.head(), self.file, options)
        if self.layout.encoding == "utf-8-sig" and not _all_utf8(source):
            self.layout.encoding = "cp1252"  # valid in the head only: an Excel-on-Windows file
        self.columns = choose_columns(self.layout.header, options, self.file, self.layout.sample)
        self.headerless = first_line_is_data(self.layout.header, self.columns, options, self.file)
        if self.headerless:  # the first line is a reading: read it, name columns by number
            self.layout.header_line -= 1
            self.columns = numbered_columns(self.columns, options)
        self.header_utc = says_utc(self.columns.labels["time"])
        zone = "UTC" if self.header_utc else options.get("tz") or options.get("default_tz")
        self.tz = check_zone(zone, self.file)
        self.output = OutputRules.from_options(options, self.file, self.columns)
        self.carry = pd.DataFrame()
        self.rules: CellRules | None = None
        self.info: dict[str, Any] = {}
        self.notices: list[Problem] = []  # warnings for the first batch

    def batches(self) -> Iterator[ReadingBatch]:
        """Parse chunk by chunk, carrying open clock-change runs to the next chunk."""
        for raw, lines in self._chunks():
            rules = self.rules or self._first_rules(raw)
            parsed = parse_chunk(raw, lines, rules)
            yield self._batch(parsed, final=False)
        if len(self.carry):
            yield self._batch(ParsedChunk(rows=self.carry.iloc[:0]), final=True)
        elif self.rules is None:
            yield ReadingBatch(readings=to_readings(pd.DataFrame(), self.output).readings)

    def _batch(self, parsed: ParsedChunk, final: bool) -> ReadingBatch:
        rows = (
            pd.concat([self.carry, parsed.rows], ignore_index=True)
            if len(self.carry)
            else (parsed.rows)
        )
        rows, problems = self._place(rows, final)
        if not final:
            rows = self._defer_unknown_intervals(rows)
        out = to_readings(rows, self.output)
        self.info["interval_s"] = dict(self.output.intervals)
        found = sorted(parsed.problems + problems + out.problems, key=lambda p: p.line or 0)
        found, self.notices = self.notices + found, []
        return ReadingBatch(readings=out.readings, problems=found, info=dict(self.info))

    def _place(self, rows: pd.DataFrame, final: bool) -> tuple[pd.DataFrame, list[Problem]]:
        """Naive wall times to UTC; carry open ambiguous runs unless this is the end."""
        naive = rows["naive"].to_numpy(dtype=bool) if len(rows) else np.zeros(0, dtype=bool)
        self.carry = rows.iloc[:0]
        if not naive.any() or self.tz is None:
            return rows, []
        local = rows[naive]
        placed = place_local_times(local["source_id"], local["wall"], self.tz)
        tail = (
            np.zeros(len(local), dtype=bool)
            if final
            else open_tail(local["source_id"], placed.ambiguous)
        )
        problems = self._clock_problems(local, placed.held & ~tail, placed.nonexistent)
        rows = rows.copy()
        rows.loc[naive, "utc"] = placed.utc.astype(rows["utc"].dtype).array
        drop = np.zeros(len(rows), dtype=bool)
        drop[np.flatnonzero(naive)[tail | placed.held | placed.nonexistent]] = True
        self.carry = rows[np.isin(np.arange(len(rows)), np.flatnonzero(naive)[tail])]
        return rows[~drop].reset_index(drop=True), problems

    def _defer_unknown_intervals(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Carry (a few) rows of sources met once so far: the next chunk tells their interval."""
        if self.output.interval_s is not None or not len(rows):
            return rows
        learn_intervals(rows, self.output)
        unknown = ~rows["source_id"].isin(list(self.output.intervals)).to_numpy()
        if not unknown.any() or unknown.sum() > MAX_DEFERRED:
            return rows
        deferred = rows[unknown].assign(naive=False)
        carry = pd.concat([self.carry, deferred], ignore_index=True)
        self.carry = carry.sort_values("line", kind="stable", ignore_index=True)
        return rows[~unknown].reset_index(drop=True)

    def _clock_problems(
        self, local: pd.DataFrame, held: np.ndarray, nonexistent: np.ndarray
    ) -> list[Problem]:
        label = self.columns.labels["time"]
        found = []
        for line, text, sid in local.loc[held, ["line", "time_text", "source_id"]].itertuples(
            index=False
        ):
            msg = (
                f"the local time happens twice on this clock-change day in {self.tz} and the "
                "order of the rows cannot tell which one it is; held back, not guessed "
                "(add the time's UTC offset to place it)"
            )
            found.append(
                Problem(ProblemKind.HELD_BACK, msg, self.file, int(line), label, str(text),
                        source_id=str(sid))
            )  # fmt: skip
        for line, text in local.loc[nonexistent, ["line", "time_text"]].itertuples(index=False):
            msg = f"this local time does not exist in {self.tz} (the clocks went forward)"
            found.append(
                Problem(ProblemKind.BAD_VALUE, msg, self.file, int(line), label, str(text))
            )
        return found

    def _first_rules(self, raw: pd.DataFrame) -> CellRules:
        """Fix decimal mark and time format from the first chunk; refuse naive times without tz."""
        sample = raw.head(5000)
        value = sample[self.columns.index["value"][0]]
        decimal = self._decimal(value)
        times = sample[self.columns.index["time"][0]]
        for extra in self.columns.index["time"][1:]:
            times = times.str.cat(sample[extra], sep=" ")
        fmt = self.options.get("time_format") or self._pick_format(times)
        self.rules = CellRules(
            self.file, self.columns, len(self.layout.header), decimal, fmt,
            self.output.quantity, self.tz,
        )  # fmt: skip
        self._describe(decimal, fmt)
        self._refuse_unzoned(times)
        return self.rules

    def _pick_format(self, times: pd.Series) -> str:
        """The file's time format; when only the zone tells day from month, warn."""
        choice = pick_time_format(times, self.file, self.tz)
        if choice.by_zone:
            example = str(times[times.str.strip() != ""].iloc[0])
            label = self.columns.labels["time"]
            msg = choice.warning(example, str(self.tz))
            self.notices.append(Problem(ProblemKind.WARNING, msg, self.file, column=label))
        return choice.format

    def _refuse_unzoned(self, times: pd.Series) -> None:
        assert self.rules is not None
        if self.tz is not None or "%z" in self.rules.time_format:
            return
        cells = times[times.str.strip() != ""]
        if len(cells) and not has_offset(cells).all():
            raise SourceError(
                f"the times (e.g. {cells.iloc[0]!r}) have no UTC offset: give their time zone "
                "with --tz (an IANA name such as Europe/London or America/New_York)",
                file=self.file,
            )

    def _decimal(self, value: pd.Series) -> str:
        given = self.options.get("decimal")
        if given:
            if given not in (".", ","):
                raise SourceError(f"decimal must be '.' or ',', not {given!r}", file=self.file)
            return str(given)
        if self.layout.delimiter != ",":
            comma = value.str.contains(_COMMA_DECIMAL, regex=True).any()
            point = value.str.contains(_POINT_DECIMAL, regex=True).any()
            if comma and not point:
                return ","
        return "."

    def _describe(self, decimal: str, fmt: str) -> None:
        start_header = says_start(self.columns.labels["time"])
        self.info = {
            "connector": "generic",
            "columns": dict(self.columns.labels),
            "chosen_automatically": list(self.columns.automatic),
            "header_line": None if self.headerless else self.layout.header_line,
            "delimiter": self.layout.delimiter,
            "decimal": decimal,
            "encoding": self.layout.encoding,
            "time_format": "ISO 8601" if fmt == ISO else fmt,
            "tz": self.tz,
            "tz_from_header": self.header_utc,
            "source_label": self.output.label,
            "time_header_says_start": start_header and self.output.label == "end",
        }
        if self.info["time_header_says_start"]:
            label = self.columns.labels["time"]
            msg = (
                f"the time column {label!r} sounds like interval starts, but the times are "
                "taken as the readings' times as they stand (give --source-label start if "
                "each time starts its interval)"
            )
            self.notices.append(Problem(ProblemKind.WARNING, msg, self.file, column=label))

    def _chunks(self) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        """Raw string chunks and the physical line number of each row.

        Starts with EXTRA_CELLS columns more than the header; when a row has more cells
        still, the file is read again with room for them, past the rows already given,
        so that row is named by `parse_chunk` and nothing else is lost.

        Raises:
            SourceError: when the file is not CSV, or a row has over MAX_CELLS cells.
        """
        room = len(self.layout.header) + EXTRA_CELLS
        given = 0
        while True:
            try:
                for raw, starts in self._raw_chunks(room, skip=given):
                    given += len(raw)
                    yield raw, starts
                return
            except _RowTooLong as long_row:
                if room >= MAX_CELLS:
                    raise SourceError(
                        f"a row at or after line {long_row.after_line} has more than {MAX_CELLS} "
                        "cells; the file cannot be read as CSV",
                        file=self.file,
                    ) from None
                room = min(MAX_CELLS, max(long_row.cells, 2 * room))

    def _raw_chunks(self, room: int, skip: int) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        """Chunks with `room` columns, leaving out the first `skip` rows.

        Raises:
            _RowTooLong: a row has more than `room` cells.
        """
        names = list(range(room))
        next_line = self.layout.header_line + 1
        try:
            with pd.read_csv(
                self._handle(), sep=self.layout.delimiter, header=None,
                skiprows=self.layout.header_line, names=names, dtype=str, na_filter=False,
                skip_blank_lines=False, chunksize=self._chunk_rows(room), engine="c",
                encoding=self.layout.encoding, quotechar='"', index_col=False,
            ) as reader:  # fmt: skip
                while (raw := _next_chunk(reader)) is not None:
                    raw = raw.fillna("")
                    raw.columns = names
                    extra = _embedded_newlines(raw)
                    starts = next_line + np.arange(len(raw)) + np.cumsum(extra) - extra
                    next_line = int(starts[-1] + extra[-1] + 1) if len(raw) else next_line
                    if skip < len(raw):
                        yield raw.iloc[skip:].reset_index(drop=True), starts[skip:]
                    skip = max(skip - len(raw), 0)
        except pd.errors.ParserWarning:  # pandas would drop the cells past `room`
            raise _RowTooLong(room + 1, next_line) from None
        except pd.errors.ParserError as exc:
            saw = _SAW_CELLS.search(str(exc))
            if saw is not None and int(saw.group(1)) > room:
                raise _RowTooLong(int(saw.group(1)), next_line) from None
            raise SourceError(f"cannot be read as CSV after line {next_line}: {exc}",
                              file=self.file) from exc  # fmt: skip
        except (UnicodeDecodeError, ValueError) as exc:
            kind = "encoding" if isinstance(exc, UnicodeDecodeError) else ""
            raise SourceError(f"cannot be read as CSV after line {next_line}: {exc}",
                              file=self.file, kind=kind) from exc  # fmt: skip

    def _handle(self) -> Path | io.BytesIO:
        if self.source.path is not None:
            return self.source.path
        return io.BytesIO(self.source.data or b"")

    def _chunk_rows(self, room: int) -> int:
        """Rows per chunk: fewer when rows have room for more cells (same cells per chunk)."""
        rows = int(self.options.get("chunk_rows") or DEFAULT_CHUNK_ROWS)
        return max(rows * (len(self.layout.header) + EXTRA_CELLS) // room, 1)


class _RowTooLong(Exception):
    """A row has more cells than the reader has columns for."""

    def __init__(self, cells: int, after_line: int) -> None:
        super().__init__(cells, after_line)
        self.cells = cells  # at least this many
        self.after_line = after_line  # the first line of the chunk it is in


def _next_chunk(reader: Any) -> pd.DataFrame | None:
    """The next chunk; pandas' ParserWarning (cells about to be dropped) raised, not printed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return next(reader, None)


def _embedded_newlines(raw: pd.DataFrame) -> np.ndarray:
    """Line breaks inside quoted cells, per row (they shift the physical line numbers)."""
    extra = np.zeros(len(raw), dtype="int64")
    for column in raw.columns:
        cells = raw[column]
        if cells.str.contains("\n", regex=False).any():
            extra += cells.str.count(re.escape("\n")).to_numpy(dtype="int64")
    return extra


def _all_utf8(source: Source) -> bool:
    """Whether the whole source decodes as UTF-8 (checked in blocks, before any row is used)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with source.open() as handle:
            while block := handle.read(1 << 23):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
