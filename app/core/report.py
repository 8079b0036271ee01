"""What a convert/send run did: counts, problems, rejections, files written.

The CLI prints a `RunResult`; the GUI shows the same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.energycap.outbox import OutputFile
from app.core.mapping import MappingRow
from connectors.base import Problem, ProblemKind

WITHHELD_KINDS = (ProblemKind.HELD_BACK, ProblemKind.BAD_VALUE)


@dataclass(frozen=True)
class Rejection:
    """Readings EnergyCAP refused (or an import task reported), with where they came from."""

    reason: str
    origin: str | None = None
    source_id: str | None = None
    time: str | None = None
    value: float | None = None
    count: int = 1

    @classmethod
    def of_reading(cls, row: Any) -> Rejection:
        """The rejection of one journal reading (a row of `Journal.readings_by_id`)."""
        origin = row.origin if isinstance(row.origin, str) else None
        time = row.time.isoformat()
        return cls(str(row.reason), origin, str(row.source_id), time, float(row.value))

    def describe(self) -> str:
        """One line: origin first, then what EnergyCAP said."""
        labelled = (("source", self.source_id), ("time", self.time), ("value", self.value))
        what = [f"{label} {given}" for label, given in labelled if given is not None]
        if self.count != 1:
            what.append(f"{self.count} readings")
        head = f"{self.origin}: " if self.origin else ""
        detail = f" ({', '.join(what)})" if what else ""
        return f"{head}rejected by EnergyCAP{detail}: {self.reason}"


@dataclass
class DeliveryResult:
    """What one delivery step sent and what EnergyCAP refused."""

    sent: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, other: DeliveryResult) -> None:
        """Fold another delivery's counts into this one."""
        self.sent += other.sent
        self.rejected += other.rejected
        self.rejections.extend(other.rejections)


@dataclass
class SourceReport:
    """One source of a run: the connector chosen and what came out."""

    name: str
    connector: str | None = None
    score: float | None = None
    read: int = 0
    error: str | None = None
    layout: str | None = None
    layout_score: float | None = None

    def describe(self) -> str:
        """`file: connector uk-hh (score 0.95), layout energy-assets (score 0.92)`."""
        text = f"{self.name}: connector {self.connector} (score {self.score or 0:.2f})"
        return f"{text}, {self.layout_text()}" if self.layout else text

    def layout_text(self) -> str:
        """`layout energy-assets (score 0.92)`, or "" for connectors without layouts."""
        if not self.layout:
            return ""
        return f"layout {self.layout} (score {self.layout_score or 0:.2f})"


@dataclass
class RunResult:
    """Everything a convert or send run did.

    Attributes:
        read: readings the connectors produced.
        sent: readings EnergyCAP accepted.
        written: readings written to import files (convert, or send to the outbox).
        held_back: readings not sent because of a problem in the source.
        rejected: readings EnergyCAP refused.
        hints: mapping rows connectors supplied (EnergyCAP identities read from
            the source); applied to sources the user's mapping does not name.
    """

    read: int = 0
    sent: int = 0
    written: int = 0
    held_back: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    outputs: list[OutputFile] = field(default_factory=list)
    sources: list[SourceReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hints: list[MappingRow] = field(default_factory=list)
    cancelled: bool = False
    writes_files: bool = False

    def add_problems(self, problems: list[Problem]) -> None:
        """Record source problems; those that withhold readings count as held back."""
        self.problems.extend(problems)
        self.held_back += sum(p.count for p in problems if p.kind in WITHHELD_KINDS)

    def add_delivery(self, delivery: DeliveryResult) -> None:
        """Record what a delivery step did."""
        self.sent += delivery.sent
        self.rejected += delivery.rejected
        self.rejections.extend(delivery.rejections)

    @property
    def exit_code(self) -> int:
        """0 all delivered/written; 1 some held back or rejected; 2 whole-file errors."""
        if self.errors:
            return 2
        if self.held_back or self.rejected or self.cancelled:
            return 1
        return 0

    def summary(self) -> str:
        """The one-line summary: read, sent, (written), held back, rejected."""
        parts = [f"read {self.read}", f"sent {self.sent}"]
        if self.writes_files:
            parts.append(f"written {self.written}")
        parts += [f"held back {self.held_back}", f"rejected {self.rejected}"]
        if self.cancelled:
            parts.append("cancelled")
        return ", ".join(parts)
