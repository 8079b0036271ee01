"""Stark `.df2` line files: `#F2`, `#O <mpan>`, `#S <stream>`, then `DD/MM/YYYY,HH:MM,value,status`.

`#O` starts the readings of an outstation (its MPAN core: the 13 digits before
any `-name` suffix or trailing commas), `#S` a stream of it (`#S 2` or `#S2`;
stream 1 is the meter's kWh, other streams get the source id `<mpan>-<n>`).
Each data line is one half-hour labelled by its END (00:30 … 24:00, seconds
`:00` allowed), status `A` actual, `E` estimated, `-` no data. The times are
**UTC** unless the `tz` option says otherwise (Chellow, which imports Stark data
in production, reads them as UTC, and its clock-change test files only make
sense that way). The lines are turned into one Arrow table and read by the same
row-per-reading engine as CSV exports, so a local `tz` follows the same
clock-change rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.base import ConnectorInfo, Problem, ProblemKind, ReadingBatch, Source, SourceError
from connectors.tabular.cells import Chunk
from connectors.tabular.layout import Layout, Plan
from connectors.tabular.long import LongReader
from connectors.tabular.text import reject_non_csv, text_of, utf8_head

DF2_LAYOUT = Layout(
    name="stark-df2",
    title="Stark .df2 line file (#F2, #O mpan, #S stream, date,time,value,status)",
    shape="long",
    id=("id",),
    date=("time",),
    values=(),
    long_label="end",
)
LABELS = ["id", "time", "value", "status"]
DEFAULT_TZ = "UTC"
DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")
CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::00)?$")
OUTSTATION = re.compile(r"^(\d{13})(?:\s*-.*)?$")
STREAM = re.compile(r"^#S\s*(\S*)", re.I)


def _plan() -> Plan:
    plan = Plan(DF2_LAYOUT, 1.0, LABELS, 0, 1, "clock")
    plan.value_index, plan.long_flag_index = 2, 3
    return plan


def stamp_of(day: str, clock: str) -> str | None:
    """`DD/MM/YYYY HH:MM` of a df2 date and end time (`24:00` is the next day's 00:00;
    two-digit years are 20yy up to 68, else 19yy; seconds must be `:00`), None if unreadable."""
    found, time = DAY.match(day), CLOCK.match(clock)
    if not found or not time:
        return None
    d, m, y = (int(g) for g in found.groups())
    if len(found.group(3)) == 2:
        y += 2000 if y <= 68 else 1900
    hours, minutes = int(time.group(1)), int(time.group(2))
    try:
        when = date(y, m, d)
    except ValueError:
        return None
    if hours == 24 and minutes == 0:
        when, hours = when + timedelta(days=1), 0
    if hours > 23 or minutes > 59:
        return None
    return f"{when:%d/%m/%Y} {hours:02d}:{minutes:02d}"


def outstation_id(text: str) -> tuple[str, str | None]:
    """(source id, extra fields or None) of an `#O` line's text.

    Trailing empty fields (`2204707514535,,,`) and a `-name` suffix after the 13-digit
    MPAN core (`2248274887874-jlkkk38`, as Chellow reads it) are not part of the id;
    non-empty fields after a comma are returned to be named.
    """
    fields = [f.strip() for f in text.split(",")]
    core = fields[0]
    rest = [f for f in fields[1:] if f]
    found = OUTSTATION.match(core)
    if found:
        core = found.group(1)
    return core, (",".join(rest) if rest else None)


class Df2Parser:
    """Collects the data lines of a .df2 text into columns."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.columns: list[list[str | None]] = [[], [], [], []]
        self.lines: list[int] = []
        self.problems: list[Problem] = []
        self.source: str | None = None
        self.meter: str | None = None

    def feed(self, number: int, text: str) -> None:
        """Take one physical line (1-based number)."""
        text = text.strip().lstrip("\ufeff")
        if not text:
            return
        if text.startswith("#"):
            self._directive(number, text)
            return
        fields = [f.strip() for f in text.split(",")]
        if len(fields) < 3 or self.source is None:
            why = (
                "no #O line names the meter before it"
                if self.source is None
                else f"{len(fields)} fields, a reading line has date,time,value,status"
            )
            self._bad(number, text, f"not a df2 reading line ({why}); skipped")
            return
        status = fields[3] if len(fields) > 3 else None
        self._add(number, fields[0], fields[1], fields[2], status)

    def _directive(self, number: int, text: str) -> None:
        tag = text[:2].upper()
        if tag == "#O":
            meter, dropped = outstation_id(text[2:].strip())
            self.meter = self.source = meter or None
            if dropped:
                message = f"the #O line's {dropped!r} is not part of the MPAN; read as {meter}"
                self.problems.append(
                    Problem(ProblemKind.WARNING, message, self.label, number, value=text[:80])
                )
        elif tag == "#S" and self.meter:
            found = STREAM.match(text)
            stream = found.group(1) if found else ""
            self.source = self.meter if stream in {"", "1"} else f"{self.meter}-{stream}"

    def _add(self, number: int, day: str, clock: str, value: str, status: str | None) -> None:
        stamp = stamp_of(day, clock) or f"{day} {clock}"  # unreadable: named by the reader
        for column, item in zip(self.columns, (self.source, stamp, value, status), strict=True):
            column.append(item)
        self.lines.append(number)

    def _bad(self, number: int, text: str, message: str) -> None:
        self.problems.append(
            Problem(ProblemKind.BAD_VALUE, message, self.label, number, value=text[:80])
        )

    def batch(self) -> pa.RecordBatch:
        """The collected lines as an Arrow batch with columns c0..c3."""
        arrays = [pa.array(column, type=pa.string()) for column in self.columns]
        return pa.RecordBatch.from_arrays(arrays, names=[f"c{i}" for i in range(4)])


class StarkDf2Connector:
    """Reads Stark .df2 line files."""

    info = ConnectorInfo(
        id="df2",
        name="Stark .df2 (half-hourly line file)",
        description="#F2 / #O mpan / #S stream headers, then date,time,value,status lines.",
        file_patterns=("*.df2",),
    )

    def sniff(self, head: bytes, name: str) -> float:
        """High when the file starts with `#F2`; some for a .df2 name with `#O` lines."""
        head = utf8_head(head)
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text[:3].upper() == b"#F2":
            return 0.95
        return 0.6 if name.lower().endswith(".df2") and b"#O" in head else 0.0

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        """One batch of readings (df2 files are small), then the held-back days.

        Raises:
            SourceError: when the file is not a df2 file.
        """
        with source.open() as handle:
            data = handle.read()
        reject_non_csv(utf8_head(data[:65536]), source.label)
        if self.sniff(data[:4096], source.name) == 0.0:
            raise SourceError(
                "this is not a Stark .df2 file (no #F2 first line)", file=source.label
            )
        parser = Df2Parser(source.label)
        text = text_of(data).replace("\r\n", "\n").replace("\r", "\n")
        for number, line in enumerate(text.split("\n"), start=1):
            parser.feed(number, line)
        tz = str(options.get("tz") or DEFAULT_TZ)
        accept = str(options.get("accept_ambiguous_days", "")).lower() in {"1", "true", "yes"}
        reader = LongReader(_plan(), source.label, tz, accept)
        chunk = Chunk(source.label, np.asarray(parser.lines, dtype="int64"))
        chunk.problems.extend(parser.problems)
        meta = {"layout": DF2_LAYOUT.name, "layout_score": 1.0, "tz": tz}
        if parser.lines:
            result = reader.convert(parser.batch(), chunk)
        else:
            if not chunk.problems:
                chunk.problems.append(no_readings(source.label))
            result = ReadingBatch.problems_only(chunk.problems)
        result.info = meta
        yield result
        last = reader.flush()  # rows of a repeated clock-change hour carried to the end
        if last is not None:
            last.info = dict(meta)
            yield last
        yield ReadingBatch.problems_only(reader.held_problems(), dict(meta))


def no_readings(label: str) -> Problem:
    """The warning of a df2 file with headers but no reading lines."""
    return Problem(ProblemKind.WARNING, "the file has no reading lines; nothing to send", label)
