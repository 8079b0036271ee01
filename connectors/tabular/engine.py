"""The UK half-hourly connector: one tabular engine, vendor layouts as data.

`UkHalfHourlyConnector` (id `uk-hh`) finds the header row of a file (after any
preamble), picks the best-fitting layout of `connectors/tabular/layouts/*.toml` (or the
one named by the `layout` option), then streams the body in blocks with
pyarrow's CSV reader and turns each block into readings with column
operations; blocks are parsed and converted on threads, one block ahead of the
caller (`Prefetch`), so reading overlaps with what the caller does. Options:
`layout`, `tz` (default Europe/London; UTC when the date column says
`(UTC)`), `accept_ambiguous_days`, `delimiter`, `block_size`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import ConnectorInfo, Problem, ProblemKind, ReadingBatch, Source, SourceError
from connectors.tabular.layout import Layout, Plan, builtin_layouts, layout_by_name, match_header
from connectors.tabular.long import LongReader
from connectors.tabular.rows import recognise_rows
from connectors.tabular.stream import BodyStream, Prefetch
from connectors.tabular.text import (
    HeadLine,
    TextInfo,
    as_utf8,
    candidate_headers,
    decode_head,
    reject_non_csv,
    utf8_head,
    what_it_looks_like,
)
from connectors.tabular.wide import WideReader

HEAD_BYTES = 1 << 16
DEFAULT_BLOCK = 2 << 20  # bytes of CSV per block: 2 MB keeps three blocks in flight in ~500 MB
MIN_SCORE = 0.5


@dataclass
class Choice:
    """The header line found in a file and the plan to read it."""

    line: HeadLine
    plan: Plan


def choose_layout(info: TextInfo, layouts: tuple[Layout, ...]) -> Choice | None:
    """The best (header line, layout) of the head, or None when no layout fits.

    The first line that fits any layout is the header; with none, the rows may still
    have the shape of a headerless layout (`connectors.tabular.rows`).
    """
    best: Choice | None = None
    for line, fields in candidate_headers(info):
        for layout in layouts:
            plan = match_header(fields, layout)
            if plan is not None and (best is None or plan.score > best.plan.score):
                best = Choice(line, plan)
        if best is not None:
            return best
    found = recognise_rows(info, layouts)
    return Choice(*found) if found else None


def _reader(plan: Plan, label: str, tz: str, accept: bool) -> WideReader | LongReader:
    if plan.layout.shape == "long":
        return LongReader(plan, label, tz, accept)
    return WideReader(plan, label, tz, accept)


def nothing_read(label: str, rows: int) -> Problem:
    """The problem of a file that gave no reading and met no other problem: data rows whose
    every value is blank (readings lost: BAD_VALUE), or a header without rows (a warning)."""
    if rows:
        message = (
            f"no readings in the file: every half-hour value of its {rows} data "
            f"row{'s are' if rows != 1 else ' is'} blank; nothing was sent"
        )
        return Problem(ProblemKind.BAD_VALUE, message, label)
    return Problem(ProblemKind.WARNING, "the file has no data rows; nothing to send", label)


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class UkHalfHourlyConnector:
    """Reads UK half-hourly CSV exports of every known layout (see docs/reference/uk-hh.md)."""

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
        """The score of the best layout for this head, 0 when none fits.

        A web page or other non-CSV content in a `.csv` file gets a token score, so
        that `--connector auto` lets this connector refuse it saying what it is.
        """
        head = utf8_head(head)
        if what_it_looks_like(head) is not None:
            return 0.01 if name.lower().endswith((".csv", ".txt")) else 0.0
        choice = choose_layout(decode_head(head), builtin_layouts())
        return choice.plan.score if choice is not None else 0.0

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        """Stream readings in blocks; the last batch carries the held-back days.

        Raises:
            SourceError: for a non-CSV file or a header no layout recognises.
        """
        source = as_utf8(source)  # UTF-16 exports are read as UTF-8 text
        head = source.head(HEAD_BYTES)
        reject_non_csv(head, source.label)
        info = decode_head(head)
        if options.get("delimiter"):
            info = TextInfo(info.encoding, str(options["delimiter"]), info.lines)
        choice = self._choose(info, options, source.label)
        plan = choice.plan
        tz = str(options.get("tz") or ("UTC" if plan.utc else "Europe/London"))
        accept = _truthy(options.get("accept_ambiguous_days", False))
        reader = _reader(plan, source.label, tz, accept)
        meta = {"layout": plan.layout.name, "layout_score": plan.score, "tz": tz}
        meta["header_line"] = choice.line.number
        block = int(options.get("block_size") or DEFAULT_BLOCK)
        read = named = 0
        body = BodyStream(source.open, info, choice.line, plan, block)
        # blocks are read and converted on a thread while the caller maps and writes
        ahead = Prefetch(body.batches(reader), lambda: None)
        try:
            for batch, _ in ahead:
                batch.info = {**batch.info, **meta}  # the reader's string codes, if any
                read += len(batch.readings)
                named += sum(p.kind != ProblemKind.WARNING for p in batch.problems)
                yield batch
        finally:
            ahead.close()
        last = reader.flush() if isinstance(reader, LongReader) else None
        if last is not None:
            last.info = dict(meta)
            read += len(last.readings)
            yield last
        problems = [*body.leftover(source.label, reader.last_data_line), *reader.held_problems()]
        named += sum(p.kind != ProblemKind.WARNING for p in problems)
        if not read and not named:
            problems.append(nothing_read(source.label, reader.rows_with_id))
        yield ReadingBatch.problems_only(problems, dict(meta))

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
