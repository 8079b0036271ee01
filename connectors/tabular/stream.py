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

    handle: IO[bytes]
    info: TextInfo
    header: HeadLine
    plan: Plan
    block: int
    mode: Mode = field(default_factory=Mode)
    skipped: list[tuple[int, int, str]] = field(default_factory=list)
    reported: set[int] = field(default_factory=set)
    converted: int = 0

    def batches(self, reader: BlockReader) -> Iterator[ReadingBatch]:
        """Readings block by block; restarts in a slower mode when it must (see module doc)."""
        while True:
            try:
                yield from self._pass(reader)
                return
            except pa.ArrowInvalid:
                if not self._slow_down():
                    raise

    def leftover(self, file: str) -> list[Problem]:
        """Problems of bad lines not reported with a block (e.g. after the last one)."""
        return _row_problems(self.skipped, self.reported, file, len(self.plan.labels))

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
        self.handle.seek(self.header.end)
        row0 = 0
        ahead = Prefetch(self._open(), lambda: list(self.skipped))
        try:
            for batch, skipped in ahead:
                start, row0 = row0, row0 + batch.num_rows
                if row0 <= self.converted:
                    continue
                first = max(start, self.converted)
                part = batch.slice(first - start)
                lines = _physical_lines(self.header.number + 1, first, part.num_rows, skipped)
                chunk = Chunk(reader.file, lines)
                width = len(self.plan.labels)
                chunk.problems.extend(_row_problems(skipped, self.reported, reader.file, width))
                result = reader.convert(part, chunk)
                self.converted = row0
                yield result
        finally:
            ahead.close()  # before the file is read again (a slower pass) or closed

    def _open(self) -> Any:
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
            return pcsv.open_csv(self.handle, read, parse, convert)
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
    wanted = {plan.id_index, plan.date_index}
    for index in (plan.units_index, plan.row_flag_index, plan.value_index, plan.long_flag_index):
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
    skipped: list[tuple[int, int, str]], reported: set[int], file: str, width: int
) -> list[Problem]:
    """BAD_VALUE problems for skipped lines that look like data (not footers/blank lines)."""
    found = []
    for number, fields, text in skipped:
        if fields <= 2 or number in reported:
            continue
        reported.add(number)
        message = f"the line has {fields} fields but the header has {width}; the line is skipped"
        found.append(Problem(ProblemKind.BAD_VALUE, message, file, number, value=text[:80]))
    return found
