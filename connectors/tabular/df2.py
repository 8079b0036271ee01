"""Stark `.df2` line files: `#F2`, `#O <mpan>`, `#S <stream>`, then `DD/MM/YYYY,HH:MM,value,status`.

`#O` starts the readings of an outstation (the MPAN), `#S` a stream of it
(stream 1 is the meter's kWh; other streams get the source id `<mpan>-<n>`).
Each data line is one half-hour labelled by its END in local time (00:30 …
24:00), status `A` actual, `E` estimated, `-` no data. The lines are turned
into one Arrow table and read by the same row-per-reading engine as CSV
exports, so clock-change days follow the same rules.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from connectors.base import (
    ConnectorInfo,
    Problem,
    ProblemKind,
    ReadingBatch,
    Source,
    SourceError,
    empty_readings,
)
from connectors.tabular.cells import Chunk
from connectors.tabular.layout import Layout, Plan
from connectors.tabular.long import LongReader
from connectors.tabular.text import reject_non_csv

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


def _plan() -> Plan:
    plan = Plan(DF2_LAYOUT, 1.0, LABELS, 0, 1, "clock")
    plan.value_index, plan.long_flag_index = 2, 3
    return plan


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
            self._directive(text)
            return
        fields = [f.strip() for f in text.split(",")]
        if len(fields) < 3 or self.source is None:
            why = (
                "no #O line names the meter before it" if self.source is None else "too few fields"
            )
            self._bad(number, text, f"not a df2 reading line ({why}); skipped")
            return
        status = fields[3] if len(fields) > 3 else None
        self._add(number, fields[0], fields[1], fields[2], status)

    def _directive(self, text: str) -> None:
        tag, _, rest = text.partition(" ")
        if tag.upper() == "#O":
            self.meter, self.source = rest.strip(), rest.strip()
        elif tag.upper() == "#S" and self.meter:
            stream = rest.strip()
            self.source = self.meter if stream in {"", "1"} else f"{self.meter}-{stream}"

    def _add(self, number: int, day: str, clock: str, value: str, status: str | None) -> None:
        stamp = f"{day} {clock}"
        if clock.startswith("24:"):
            try:
                moved = datetime.strptime(day, "%d/%m/%Y") + timedelta(days=1)
                stamp = f"{moved:%d/%m/%Y} 00:{clock[3:5]}"
            except ValueError:
                pass
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
        reject_non_csv(data[:65536], source.label)
        if self.sniff(data[:4096], source.name) == 0.0:
            raise SourceError(
                "this is not a Stark .df2 file (no #F2 first line)", file=source.label
            )
        parser = Df2Parser(source.label)
        text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
        for number, line in enumerate(text.split("\n"), start=1):
            parser.feed(number, line)
        tz = str(options.get("tz") or "Europe/London")
        accept = str(options.get("accept_ambiguous_days", "")).lower() in {"1", "true", "yes"}
        reader = LongReader(_plan(), source.label, tz, accept)
        chunk = Chunk(source.label, np.asarray(parser.lines, dtype="int64"))
        chunk.problems.extend(parser.problems)
        meta = {"layout": DF2_LAYOUT.name, "layout_score": 1.0, "tz": tz}
        if parser.lines:
            result = reader.convert(parser.batch(), chunk)
        else:
            result = ReadingBatch(empty_readings(), chunk.problems)
        result.info = meta
        yield result
        yield ReadingBatch(empty_readings(), reader.held_problems(), dict(meta))
