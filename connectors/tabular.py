"""The UK half-hourly connector: one tabular engine, vendor layouts as data.

`UkHalfHourlyConnector` (id `uk-hh`) finds the header row of a file (after any
preamble), picks the best-fitting layout of `connectors/layouts/*.toml` (or the
one named by the `layout` option), then streams the body in blocks with
pyarrow's CSV reader and turns each block into readings with column
operations. Options: `layout`, `tz` (default Europe/London; UTC when the date
column says `(UTC)`), `accept_ambiguous_days`, `delimiter`, `block_size`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from connectors.base import (
    ConnectorInfo,
    Problem,
    ProblemKind,
    ReadingBatch,
    Source,
    SourceError,
    empty_readings,
)
from connectors.tabular_cells import Chunk
from connectors.tabular_layout import Layout, Plan, builtin_layouts, layout_by_name, match_header
from connectors.tabular_long import LongReader
from connectors.tabular_text import (
    HeadLine,
    TextInfo,
    candidate_headers,
    data_width,
    decode_head,
    reject_non_csv,
    what_it_looks_like,
)
from connectors.tabular_wide import WideReader

HEAD_BYTES = 1 << 16
DEFAULT_BLOCK = 4 << 20
MIN_SCORE = 0.5


@dataclass
class Choice:
    """The header line found in a file and the plan to read it."""

    line: HeadLine
    plan: Plan


def choose_layout(info: TextInfo, layouts: tuple[Layout, ...]) -> Choice | None:
    """The best (header line, layout) of the head, or None when no layout fits."""
    best: Choice | None = None
    for line, fields in candidate_headers(info):
        for layout in layouts:
            plan = match_header(fields, layout)
            if plan is not None and (best is None or plan.score > best.plan.score):
                best = Choice(line, plan)
        if best is not None:
            return best  # the first line that fits any layout is the header
    return best


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class UkHalfHourlyConnector:
    """Reads UK half-hourly CSV exports of every known layout (see docs/notes/uk-hh.md)."""

    info = ConnectorInfo(
        id="uk-hh",
        name="UK half-hourly (48/50-column CSV)",
        description=(
            "One row per meter per day (Energy Assets, IMServ, Stark, SSE, EDF, npower, "
            "British Gas, settlement HH1..HH50 ...) or one row per reading; layout from the header."
        ),
        file_patterns=("*.csv", "*.txt"),
    )

    def sniff(self, head: bytes, name: str) -> float:
        """The score of the best layout for this head, 0 when none fits."""
        if what_it_looks_like(head) is not None:
            return 0.0
        choice = choose_layout(decode_head(head), builtin_layouts())
        return choice.plan.score if choice is not None else 0.0

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        """Stream readings in blocks; the last batch carries the held-back days.

        Raises:
            SourceError: for a non-CSV file or a header no layout recognises.
        """
        head = source.head(HEAD_BYTES)
        reject_non_csv(head, source.label)
        info = decode_head(head)
        if options.get("delimiter"):
            info = TextInfo(info.encoding, str(options["delimiter"]), info.lines)
        choice = self._choose(info, options, source.label)
        plan = choice.plan
        tz = str(options.get("tz") or ("UTC" if plan.utc else "Europe/London"))
        accept = _truthy(options.get("accept_ambiguous_days", False))
        reader: WideReader | LongReader
        if plan.layout.shape == "long":
            reader = LongReader(plan, source.label, tz, accept)
        else:
            reader = WideReader(plan, source.label, tz, accept)
        meta = {"layout": plan.layout.name, "layout_score": plan.score, "tz": tz}
        meta["header_line"] = choice.line.number
        block = int(options.get("block_size") or DEFAULT_BLOCK)
        with source.open() as handle:
            yield from self._stream(handle, info, choice, reader, block, meta)
        yield ReadingBatch(empty_readings(), reader.held_problems(), dict(meta))

    def _choose(self, info: TextInfo, options: Mapping[str, Any], label: str) -> Choice:
        layouts = builtin_layouts()
        if options.get("layout"):
            try:
                layouts = (layout_by_name(str(options["layout"])),)
            except KeyError as error:
                raise SourceError(str(error.args[0]), file=label) from None
        choice = choose_layout(info, layouts)
        if choice is None or choice.plan.score < MIN_SCORE:
            first = next((line.text for line in info.lines if line.text.strip()), "")
            wanted = f"layout {options['layout']!r}" if options.get("layout") else "known layout"
            raise SourceError(
                f"no {wanted} of UK half-hourly data fits this file; its first line is "
                f"{first[:120]!r}",
                file=label,
            )
        return choice

    def _stream(
        self,
        handle: IO[bytes],
        info: TextInfo,
        choice: Choice,
        reader: WideReader | LongReader,
        block: int,
        meta: dict[str, Any],
    ) -> Iterator[ReadingBatch]:
        """Blocks of readings; value columns are parsed as numbers by Arrow while it
        can, and if a block holds a cell that is not a number the rest of the file is
        read again as text (rows already converted are not converted twice)."""
        width, typed, converted = len(choice.plan.labels), True, 0
        reported: set[int] = set()
        while True:
            skipped: list[tuple[int, int, str]] = []
            handle.seek(choice.line.end)
            row0 = 0
            try:
                for batch in _open_stream(handle, info, choice, block, skipped, typed):
                    start, row0 = row0, row0 + batch.num_rows
                    if row0 <= converted:
                        continue
                    part = batch.slice(converted - start) if start < converted else batch
                    first = max(start, converted)
                    lines = _physical_lines(choice.line.number + 1, first, part.num_rows, skipped)
                    chunk = Chunk(reader.file, lines)
                    chunk.problems.extend(_row_problems(skipped, reported, reader.file, width))
                    result = reader.convert(part, chunk)
                    result.info = dict(meta)
                    converted = row0
                    yield result
            except pa.ArrowInvalid:
                if not typed:
                    raise
                typed = False
                continue
            break
        leftover = _row_problems(skipped, reported, reader.file, width)
        if leftover:
            yield ReadingBatch(empty_readings(), leftover, dict(meta))


def _open_stream(
    handle: IO[bytes],
    info: TextInfo,
    choice: Choice,
    block: int,
    skipped: list[tuple[int, int, str]],
    typed: bool,
) -> Any:
    plan = choice.plan
    width = max(len(plan.labels), data_width(info, choice.line) or 0)
    names = [f"c{i}" for i in range(width)]
    wanted = _needed(plan)
    base = choice.line.number
    numeric = {v.index for v in plan.values} if typed else set()
    if plan.value_index is not None and typed:
        numeric.add(plan.value_index)

    def on_invalid(row: Any) -> str:
        number = base + int(row.number) if row.number is not None else -1
        skipped.append((number, int(row.actual_columns), str(row.text or "")))
        return "skip"

    read = pcsv.ReadOptions(
        column_names=names, block_size=block, encoding=info.encoding, use_threads=False
    )
    parse = pcsv.ParseOptions(
        delimiter=info.delimiter, invalid_row_handler=on_invalid, ignore_empty_lines=False
    )
    types = {names[i]: pa.float64() if i in numeric else pa.string() for i in wanted}
    convert = pcsv.ConvertOptions(
        column_types=types,
        include_columns=[names[i] for i in wanted],
        null_values=["", "-"],
        strings_can_be_null=False,
    )
    try:
        return pcsv.open_csv(
            handle, read_options=read, parse_options=parse, convert_options=convert
        )
    except pa.ArrowInvalid as error:
        if typed:
            raise  # a cell that is not a number: read again as text, naming it
        raise SourceError(f"the file cannot be read as CSV: {error}") from None


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
        if number >= 0:
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
