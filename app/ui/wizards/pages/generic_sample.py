"""The generic CSV wizard's sample file: its columns, first rows, a guess, and a test read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HEAD_BYTES = 64 * 1024
DATE_FORMATS = (
    ("recognise automatically", ""),
    ("31/12/2025 23:30", "%d/%m/%Y %H:%M"),
    ("12/31/2025 23:30", "%m/%d/%Y %H:%M"),
    ("2025-12-31 23:30:00", "%Y-%m-%d %H:%M:%S"),
    ("2025-12-31T23:30:00", "%Y-%m-%dT%H:%M:%S"),
    ("31.12.2025 23:30", "%d.%m.%Y %H:%M"),
)
GUESSES = {
    "id": ("mpan", "meter", "sensor", "channel", "point", "id", "serial", "mprn"),
    "time": ("timestamp", "datetime", "time", "date", "period", "end"),
    "value": ("kwh", "value", "reading", "consumption", "usage", "energy", "kw"),
}


@dataclass
class Sample:
    """What a sample file shows: its header, first rows and separator."""

    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    delimiter: str = ","
    decimal_comma: bool = False


def read_sample(path: Path) -> Sample:
    """The header and first rows of `path`.

    Raises:
        ValueError: in plain words, when the file cannot be read as a CSV.
    """
    from connectors.base import SourceError
    from connectors.generic.layout import find_layout

    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        layout = find_layout(head, path.name, {})
    except OSError as exc:
        raise ValueError(f"{path.name} cannot be opened: {exc.strerror or exc}") from None
    except SourceError as exc:
        raise ValueError(f"{path.name} is not a CSV meterbridge can read: {exc}") from None
    comma = layout.delimiter != "," and any("," in c for r in layout.sample for c in r)
    return Sample(layout.header, layout.sample[:5], layout.delimiter, comma)


def guess_column(role: str, header: list[str], taken: set[str]) -> str:
    """The header name most likely to hold `role` (id, time or value), else the first free one."""
    lowered = [(h, h.lower()) for h in header if h not in taken]
    for word in GUESSES[role]:
        for name, low in lowered:
            if word in low:
                return name
    return lowered[0][0] if lowered else ""


def test_read(path: Path, options: dict[str, Any]) -> str:
    """Read `path` as the wizard's settings say; one sentence on what came out (or why not)."""
    from connectors.base import Source, SourceError
    from connectors.generic.engine import GenericCsvConnector

    options = {k: v for k, v in options.items() if k not in ("folder", "archive") and v != ""}
    count, meters, first, last, problems = 0, set(), None, None, 0
    try:
        for batch in GenericCsvConnector().read(Source.from_path(path), options):
            frame = batch.readings
            count += len(frame)
            meters |= set(frame["source_id"].astype(str))
            problems += len(batch.problems)
            if len(frame):
                first = min(filter(None, (first, frame["time"].min())))
                last = max(filter(None, (last, frame["time"].max())))
    except (SourceError, ValueError, OSError) as exc:
        return f"✗ Not readable with these settings: {exc}"
    if not count:
        return "✗ No readings came out: check the columns and the date format."
    span = f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
    warned = f"; {problems} value(s) could not be read" if problems else ""
    return f"✓ {count:,} readings from {len(meters)} meter(s), {span}{warned}."
