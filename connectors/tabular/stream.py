"""Streaming the body of a tabular file in blocks with pyarrow's CSV reader.

Fast path first: value columns parsed as float64 by Arrow, on all cores. Two
things send the reader back to the start of the file in a slower mode, with
the rows already converted skipped (never converted twice):
  * a cell that is not a number -> value columns are read as text, so the
    engine can name the cell (file, line, column, value);
  * a line with the wrong number of fields while multi-threaded (Arrow then
    cannot tell its line number) -> single-threaded, so lines stay exact.

The next block is parsed on a thread while the caller converts the current one
(`Prefetch`); each block comes with the bad lines known when it was parsed, so
line numbers and problems are the same as when parsing in turn.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from connectors.base import Problem, ProblemKind, ReadingBatch, SourceError
from connectors.tabular.cells import Chunk
from connectors.tabular.layout import Plan
from connectors.tabular.text import HeadLine, TextInfo, data_width


class BlockReader(Protocol):
    """What converts one block of rows (WideReader, LongReader)."""

    file: str

    def convert(self, batch: pa.RecordBatch, chunk: Chunk) -> ReadingBatch: ...


@dataclass
class Mode:
    """How the body is parsed: numbers by Arrow or as text; threads or exact lines."""

    typed: bool = True
    threads: bool = True
    lost_line: bool = False  # a bad line was met while threads hid its number


@dataclass
class BodyStream:
    """The body of one file after its header line, read block by block."""

    opener: Callable[[], IO[bytes]]  # a new handle on the file for each pass
    info: TextInfo
    header: HeadLine
    plan: Plan
    block: int
    mode: Mode = field(default_factory=Mode)
    skipped: list[tuple[int, int, str]] = field(default_factory=list)
    reported: set[int] = field(default_factory=set)
    converted: int = 0
    spans: dict[int, int] = field(default_factory=dict)  # row line -> line breaks in its cells
    merged: set[int] = field(default_factory=set)  # rows of several lines already named

    def batches(self, reader: BlockReader) -> Iterator[ReadingBatch]:
        """Readings block by block; restarts in a slower mode when it must (see module doc)."""
        while True:
            try:
                yield from self._pass(reader)
                return
            except pa.ArrowInvalid:
                if not self._slow_down():
                    raise

    def leftover(self, file: str, last_data_line: int) -> list[Problem]:
        """Problems of bad lines not reported with a block (e.g. after the last one), and
        of lines cut short (one or two fields) among the data rows: before the last row
        with a meter id. Short lines after it are footers (`(3794 rows affected)`)."""
        width = len(self.plan.labels)
        where = self._where(self.skipped)
        found = _row_problems(self.skipped, self.reported, file, width, where)
        for number, fields, text in self.skipped:
            line = int(where(np.array([number]))[0])
            if number in self.reported or line > last_data_line or not _has_text(text):
                continue
            self.reported.add(number)
            message = (
                f"the line stops after {fields} field{'s' if fields != 1 else ''} (the header "
                f"has {width}): it is cut off and its half-hours are missing; skipped"
            )
            found.append(Problem(ProblemKind.BAD_VALUE, message, file, line, value=text[:80]))
        return sorted(found, key=lambda p: p.line or 0)

    def _where(self, skipped: list[tuple[int, int, str]]) -> Any:
        """A function from row lines (as if no cell spanned lines) to physical lines:
        a quoted cell that runs over line breaks (a quote left open) moves every later row."""
        spans = {n: _breaks(t) for n, _, t in skipped if _breaks(t)} | self.spans
        if not spans:
            return lambda lines: lines
        keys = np.array(sorted(spans), dtype="int64")
        before = np.concatenate([[0], np.cumsum([spans[int(k)] for k in keys])])
        return lambda lines: lines + before[np.searchsorted(keys, lines, side="left")]

    def _slow_down(self) -> bool:
        if self.mode.lost_line and self.mode.threads:
            self.mode.threads = False
        elif self.mode.typed:
            self.mode.typed = False
        else:
            return False
        self.mode.lost_line = False
        return True

    def _pass(self, reader: BlockReader) -> Iterator[ReadingBatch]:
        self.skipped.clear()
        self.spans.clear()
        # Each pass reads its own handle: Arrow's multi-threaded reader reads ahead on
        # threads of its own, which may still move an abandoned pass's file position
        # after that pass stopped; a shared handle then began the next pass mid-line.
        with self.opener() as handle:
            handle.seek(self.header.end)
            if not handle.read(1):
                return  # a header and nothing after it
            handle.seek(self.header.end)
            yield from self._blocks(reader, handle)

    def _blocks(self, reader: BlockReader, handle: IO[bytes]) -> Iterator[ReadingBatch]:
        row0 = 0
        ahead = Prefetch(self._open(handle), lambda: list(self.skipped))
        try:
            for batch, skipped in ahead:
                start, row0 = row0, row0 + batch.num_rows
                every = _physical_lines(self.header.number + 1, start, batch.num_rows, skipped)
                merged = self._note_spans(batch, every)  # also for blocks converted before
                if row0 <= self.converted:
                    continue
                first = max(start, self.converted)
                where = self._where(skipped)
                lines, part = where(every[first - start :]), batch.slice(first - start)
                width = len(self.plan.labels)
                problems = _row_problems(skipped, self.reported, reader.file, width, where)
                if merged is not None:  # rows made of several lines: named, not read
                    keep = ~merged[first - start :]
                    problems += self._merged_problems(reader.file, lines[~keep])
                    lines, part = lines[keep], part.filter(pa.array(keep))
                chunk = Chunk(reader.file, lines)
                chunk.problems.extend(problems)
                result = reader.convert(part, chunk)
                self.converted = row0
                yield result
        finally:
            ahead.close()  # before the file is read again (a slower pass) or closed

    def _note_spans(self, part: pa.RecordBatch, lines: Any) -> np.ndarray[Any, Any] | None:
        """Remember rows whose cells hold line breaks (a quote that runs over lines);
        return which rows they are (None: none)."""
        merged = None
        for column in part.columns:
            if not pa.types.is_string(column.type):
                continue
            found = pc.or_(pc.match_substring(column, "\n"), pc.match_substring(column, "\r"))
            if not pc.any(found).as_py():
                continue
            counts = pc.count_substring_regex(column, "\r\n|\r|\n").to_numpy(zero_copy_only=False)
            counts = np.nan_to_num(counts.astype("float64")).astype("int64")
            for row in np.flatnonzero(counts > 0):
                self.spans[int(lines[row])] = self.spans.get(int(lines[row]), 0) + int(counts[row])
            merged = (counts > 0) if merged is None else (merged | (counts > 0))
        return merged

    def _merged_problems(self, file: str, starts: Any) -> list[Problem]:
        """Name each row that ran over several lines (its readings would be misplaced)."""
        found = []
        for line in starts.tolist():
            if line in self.merged:
                continue
            self.merged.add(line)
            message = (
                'a quote (") opened on this line closes only on a later line: the lines '
                "between are read as one row, which is skipped; close the quote"
            )
            found.append(Problem(ProblemKind.BAD_VALUE, message, file, int(line)))
        return found

    def _open(self, handle: IO[bytes]) -> Any:
        names = [f"c{i}" for i in range(self._width())]
        wanted = _needed(self.plan)
        numeric = _numeric(self.plan) if self.mode.typed else set()
        types = {names[i]: pa.float64() if i in numeric else pa.string() for i in wanted}
        read = pcsv.ReadOptions(
            column_names=names,
            block_size=self.block,
            encoding=self.info.encoding,
            use_threads=self.mode.threads,
        )
        parse = pcsv.ParseOptions(
            delimiter=self.info.delimiter,
            invalid_row_handler=self._on_invalid,
            ignore_empty_lines=False,
        )
        convert = pcsv.ConvertOptions(
            column_types=types,
            include_columns=[names[i] for i in wanted],
            null_values=["", "-"],
            strings_can_be_null=False,
        )
        try:
            return pcsv.open_csv(handle, read, parse, convert)
        except pa.ArrowInvalid as error:
            if self.mode.typed or self.mode.lost_line:
                raise  # handled by a slower pass
            raise SourceError(f"the file cannot be read as CSV: {error}") from None

    def _width(self) -> int:
        return max(len(self.plan.labels), data_width(self.info, self.header) or 0)

    def _on_invalid(self, row: Any) -> str:
        if row.number is None:
            self.mode.lost_line = True
            return "error"  # read again single-threaded to know the line
        number = self.header.number + int(row.number)
        self.skipped.append((number, int(row.actual_columns), str(row.text or "")))
        return "skip"


class Prefetch:
    """Iterates `batches` on a thread, one item ahead: the next item is made while the
    caller works on the current one, and only once the caller has taken the one before
    (so at most one finished item waits). Each comes with `snapshot()` taken right after
    it was made. Arrow and numpy work without the GIL, so the two run side by side.

    An error of `batches` is raised by the iteration, after the items before it.
    `close` stops the thread; it must be called before the file is used again.
    """

    def __init__(self, batches: Any, snapshot: Callable[[], Any]) -> None:
        self._queue: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        self._taken = threading.Semaphore(0)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(batches, snapshot), name="tabular-prefetch", daemon=True
        )
        self._thread.start()

    def _run(self, batches: Any, snapshot: Callable[[], Any]) -> None:
        try:
            for batch in batches:
                self._queue.put(("batch", batch, snapshot()))
                if not self._wait_taken():
                    return
            self._queue.put(("end", None, None))
        except BaseException as error:  # handed to the reading thread
            self._queue.put(("error", error, None))
        finally:
            getattr(batches, "close", lambda: None)()  # a generator's cleanup, on this thread

    def _wait_taken(self) -> bool:
        while not self._stop.is_set():
            if self._taken.acquire(timeout=0.05):
                return True
        return False

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        while True:
            kind, value, extra = self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            self._taken.release()
            yield value, extra

    def close(self) -> None:
        """Stop reading ahead and wait for the thread to end."""
        self._stop.set()
        self._thread.join()


def _numeric(plan: Plan) -> set[int]:
    numeric = {v.index for v in plan.values}
    if plan.value_index is not None:
        numeric.add(plan.value_index)
    return numeric


def _needed(plan: Plan) -> list[int]:
    # the first column too: a line that is only an open quote joins the next line into
    # one row of the right width, and only that column shows the line break
    wanted = {0, plan.id_index, plan.date_index}
    for index in (
        plan.units_index,
        plan.row_flag_index,
        plan.value_index,
        plan.long_flag_index,
        plan.label_index,
    ):
        if index is not None:
            wanted.add(index)
    for value in plan.values:
        wanted.add(value.index)
        if value.flag_index is not None:
            wanted.add(value.flag_index)
    return sorted(wanted)


def _physical_lines(
    first: int, row0: int, count: int, skipped: list[tuple[int, int, str]]
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Physical line of each row of a block: rows are the lines not skipped as invalid."""
    lines = np.arange(first + row0, first + row0 + count, dtype="int64")
    for number, _, _ in sorted(skipped):
        lines[lines >= number] += 1
    return lines


def _row_problems(
    skipped: list[tuple[int, int, str]], reported: set[int], file: str, width: int, where: Any
) -> list[Problem]:
    """BAD_VALUE problems for skipped lines that look like data (not footers/blank lines):
    more than two fields, or a quote left open."""
    found = []
    for number, fields, text in skipped:
        spans = _breaks(text)
        unclosed = text.count('"') % 2 == 1 or spans > 0
        if (fields <= 2 and not unclosed) or number in reported:
            continue
        reported.add(number)
        line = int(where(np.array([number]))[0])
        message = f"the line has {fields} fields but the header has {width}; the line is skipped"
        if spans:
            message = (
                f'a quote (") opened on this line closes only {spans} line(s) later: lines '
                f"{line}-{line + spans} are read as one and skipped; close the quote"
            )
        elif unclosed:
            message = 'the line has a quote (") that is never closed; the line is skipped'
        found.append(Problem(ProblemKind.BAD_VALUE, message, file, line, value=text[:80]))
    return found


def _breaks(text: str) -> int:
    """Line breaks (CRLF, CR or LF) inside a row's text."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _has_text(text: str) -> bool:
    """Whether a skipped line has anything but delimiters, quotes, spaces and NULs."""
    return bool(text.strip(" \t\r\n\x00,;|\"'"))
