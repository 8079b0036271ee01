"""The reading batch schema and the Connector protocol.

Every connector turns its source into batches of normalised readings: a pandas
DataFrame with exactly the columns of `READING_COLUMNS`, never one Python
object per reading. Connectors only read; they never write anywhere.

Conventions of the schema:
    source_id   the source's own key (MPAN, export ID, `<device>-<channel>` ...)
    quantity    what is measured, in the quantity vocabulary: `kWh`, `kW`,
                `kVArh`, `kVAr`, `state` ... (the default mapping keys on it)
    unit        the unit the value is in (usually the same as quantity)
    time        timezone-aware UTC, the **end** of the interval the value covers
    interval_s  length of the interval in seconds; 0 when unknown / a snapshot
    value       float64; a bad or missing source value is never a row
    estimated   bool
    note        free text or missing
    origin      where the value came from, `file:line:column` (1-based line)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import pandas as pd

READING_COLUMNS: tuple[str, ...] = (
    "source_id",
    "quantity",
    "unit",
    "time",
    "interval_s",
    "value",
    "estimated",
    "note",
    "origin",
)

TIME_DTYPE = pd.DatetimeTZDtype(unit="ns", tz="UTC")
STRING_DTYPE = pd.StringDtype()

SCHEMA_DTYPES: dict[str, Any] = {
    "source_id": STRING_DTYPE,
    "quantity": STRING_DTYPE,
    "unit": STRING_DTYPE,
    "time": TIME_DTYPE,
    "interval_s": np.dtype("int64"),
    "value": np.dtype("float64"),
    "estimated": np.dtype("bool"),
    "note": STRING_DTYPE,
    "origin": STRING_DTYPE,
}


def empty_readings() -> pd.DataFrame:
    """Return an empty DataFrame with the reading schema."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in SCHEMA_DTYPES.items()})


def make_readings(
    *,
    source_id: Any,
    time: Any,
    value: Any,
    quantity: Any = "kWh",
    unit: Any = None,
    interval_s: Any = 0,
    estimated: Any = False,
    note: Any = None,
    origin: Any = None,
) -> pd.DataFrame:
    """Build a schema-conformant readings frame from columns or scalars.

    `time` must be timezone-aware (any zone; it is converted to UTC). Scalars
    are broadcast to the length of `value`. `unit` defaults to `quantity`.

    Raises:
        ValueError: if `time` is naive.
    """
    values = np.asarray(value, dtype="float64")
    n = len(values)
    times = pd.DatetimeIndex(pd.to_datetime(time)) if n else pd.DatetimeIndex([], tz="UTC")
    if n and times.tz is None:
        raise ValueError("reading times must be timezone-aware")
    frame = pd.DataFrame(
        {
            "source_id": _column(source_id, n),
            "quantity": _column(quantity, n),
            "unit": _column(quantity if unit is None else unit, n),
            "time": times.tz_convert("UTC") if n else times,
            "interval_s": _column(interval_s, n),
            "value": values,
            "estimated": _column(estimated, n),
            "note": _column(note, n),
            "origin": _column(origin, n),
        }
    )
    return conform(frame)


def _column(data: Any, n: int) -> Any:
    """Broadcast a scalar to n rows; pass sequences through."""
    if isinstance(data, (str, bytes, bool, int, float)) or data is None:
        return [data] * n
    return data


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return `frame` with exactly the schema's columns, order and dtypes.

    Raises:
        ValueError: on a missing column or naive times.
    """
    missing = [c for c in READING_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"readings frame lacks columns {missing}")
    out = frame.loc[:, list(READING_COLUMNS)].copy()
    times = out["time"]
    if len(out) and getattr(times.dt, "tz", None) is None:
        raise ValueError("reading times must be timezone-aware")
    out["time"] = pd.to_datetime(times, utc=True).astype(TIME_DTYPE)
    out["interval_s"] = out["interval_s"].fillna(0).astype("int64")
    out["estimated"] = out["estimated"].fillna(False).astype("bool")
    out["value"] = out["value"].astype("float64")
    for name in ("source_id", "quantity", "unit", "note", "origin"):
        out[name] = out[name].astype(STRING_DTYPE)
    return out.reset_index(drop=True)


class ProblemKind(StrEnum):
    """What went wrong with part of a source."""

    BAD_VALUE = "bad_value"  # one cell could not be read; that reading is not sent
    HELD_BACK = "held_back"  # readings read but not placeable (e.g. clock-change day)
    WARNING = "warning"  # worth showing, nothing withheld


@dataclass(frozen=True)
class Problem:
    """A problem with part of a source, precise enough for the user to fix it.

    `message` is a complete sentence; `file`, `line` (1-based physical line),
    `column` (the header label, or number) and `value` locate it.
    """

    kind: ProblemKind
    message: str
    file: str | None = None
    line: int | None = None
    column: str | None = None
    value: str | None = None
    day: date | None = None
    source_id: str | None = None
    count: int = 1

    def describe(self) -> str:
        """One line for a terminal or log: location first, then the message."""
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        parts = [where] if where else []
        if self.column is not None:
            parts.append(f"column {self.column!s}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        prefix = ", ".join(parts)
        return printable(f"{prefix}: {self.message}" if prefix else self.message)


@dataclass
class ReadingBatch:
    """Readings read from one part of a source, with the problems met there."""

    readings: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def problems_only(
        cls, problems: list[Problem], info: dict[str, Any] | None = None
    ) -> ReadingBatch:
        """A batch with no readings: what a reader found wrong, and what it learnt."""
        return cls(empty_readings(), problems, info if info is not None else {})


class SourceError(Exception):
    """A whole source cannot be read (wrong format, HTML page, unreadable).

    Nothing from the source is used. The message names the file and says what
    the content looks like. `kind` says what kind of failure it is, in the words
    `app.core.error_kinds` lists (``encoding``, ``refused``, ``unreachable`` ...; ""
    when the message says it all), for the desktop app's plain sentence.
    """

    def __init__(self, message: str, *, file: str | None = None, kind: str = "") -> None:
        super().__init__(message)
        self.file = file
        self.message = message
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.file}: {self.message}" if self.file else self.message


def http_status_kind(status: int | None) -> str:
    """The kind of failure an HTTP error answer is: 401/403 ``refused``; 429 and 5xx an
    ``outage``; "" for any other (or no) status."""
    if status in (401, 403):
        return "refused"
    if status is not None and (status == 429 or status >= 500):
        return "outage"
    return ""


@dataclass(frozen=True)
class Source:
    """Something to read: a file on disk, or bytes received with a name."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        """A source backed by a file."""
        p = Path(path)
        return cls(name=p.name, path=p)

    @classmethod
    def from_bytes(cls, data: bytes, name: str) -> Source:
        """A source held in memory (a push body, an SFTP download)."""
        return cls(name=name, data=data)

    def open(self) -> IO[bytes]:
        """Open the content for binary reading."""
        if self.path is not None:
            return self.path.open("rb")
        import io

        return io.BytesIO(self.data or b"")

    def head(self, size: int = 65536) -> bytes:
        """The first `size` bytes, for sniffing."""
        with self.open() as handle:
            return handle.read(size)

    @property
    def label(self) -> str:
        """How problems name this source: the path if any, else the name."""
        return str(self.path) if self.path is not None else self.name


@dataclass(frozen=True)
class ConnectorInfo:
    """What a connector is, for menus, the CLI and the registry."""

    id: str
    name: str
    description: str
    file_patterns: tuple[str, ...] = ()


class Connector(Protocol):
    """A reader of one kind of source. Connectors only read."""

    info: ConnectorInfo

    def sniff(self, head: bytes, name: str) -> float:
        """Confidence in [0, 1] that `head` (first bytes of a file called `name`) is ours."""
        ...

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        """Yield batches of readings; raise SourceError if the whole source is unusable."""
        ...


def concat_batches(batches: Sequence[ReadingBatch]) -> ReadingBatch:
    """Join batches into one (readings concatenated, problems in order)."""
    frames = [b.readings for b in batches if len(b.readings)]
    readings = conform(pd.concat(frames, ignore_index=True)) if frames else empty_readings()
    problems = [p for b in batches for p in b.problems]
    info: dict[str, Any] = {}
    for b in batches:
        info.update(b.info)
    return ReadingBatch(readings=readings, problems=problems, info=info)


def printable(text: str) -> str:
    """`text` with control characters escaped (ESC as ``\\x1b``): safe for a terminal.

    A file name (or a quoted line) holding terminal escape sequences must not
    reach the user's terminal as such; everything printable, spaces included,
    is kept as it is.
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )
