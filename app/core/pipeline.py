"""The convert/send engine shared by the CLI and the GUI (no Qt).

For each source: pick the connector, read its batches, map each batch and
hand it on at once (written to import files, or delivered), so memory stays
flat however big the source. Problems from the connectors (bad values,
held-back days) and refusals from EnergyCAP are collected in a `RunResult`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from app.core import string_codes
from app.core.energycap.outbox import ImportFileWriter
from app.core.guards import drop_channel_ids, drop_conflicts, drop_non_finite
from app.core.mapping import MappingTable, apply_mapping, hint_rows, with_hints
from app.core.report import DeliveryResult, RunResult, SourceReport
from connectors.base import ReadingBatch, Source, SourceError
from connectors.gap_tracker import gap_tracker_for
from connectors.registry import Candidate, ConnectorRegistry
from connectors.series_gaps import gap_problems

log = logging.getLogger(__name__)

Deliver = Callable[[pd.DataFrame], DeliveryResult]


@dataclass
class Progress:
    """Where a run is, for a progress bar."""

    source: str
    sources_done: int
    sources_total: int
    read: int
    done: int


@dataclass
class RunPlan:
    """What to read and how: shared by convert and send."""

    sources: Sequence[Source]
    registry: ConnectorRegistry
    table: MappingTable
    connector_id: str = "auto"
    options: Mapping[str, Any] = field(default_factory=dict)
    progress: Callable[[Progress], None] | None = None
    cancelled: Callable[[], bool] = lambda: False
    announce: Callable[[SourceReport], None] | None = None
    detail: Callable[[SourceReport], None] | None = None


def choose_connector(registry: ConnectorRegistry, source: Source, connector_id: str) -> Candidate:
    """The connector for `source`: by id, or the best sniffer for ``auto``.

    Raises:
        SourceError: nothing recognises the source, or the id is unknown.
    """
    if connector_id != "auto":
        try:
            return Candidate(registry.get(connector_id), 1.0)
        except KeyError as exc:
            raise SourceError(str(exc.args[0]), file=source.label) from None
    try:
        best = registry.best(source)
    except OSError as exc:
        raise SourceError(f"cannot be read ({exc.strerror or exc})", file=source.label) from exc
    if best is None:
        ids = ", ".join(registry.ids()) or "none"
        raise SourceError(
            f"no connector recognises this file (known: {ids}); name one with --connector",
            file=source.label,
        )
    return best


def mapped_batches(plan: RunPlan, source: Source, result: RunResult) -> Iterator[pd.DataFrame]:
    """Read one source batch by batch, yield each batch mapped; record problems.

    Raises:
        SourceError: the whole source cannot be read.
    """
    candidate = choose_connector(plan.registry, source, plan.connector_id)
    report = SourceReport(source.label, candidate.connector.info.id, candidate.score)
    result.sources.append(report)
    tracker = gap_tracker_for(candidate.connector.info.id)  # missing readings, told at the end
    for batch in _announced(plan, report, candidate.connector.read(source, plan.options)):
        _remember_codes(batch)
        if tracker is not None:
            tracker.add(batch.readings)
        readings, bad = drop_non_finite(batch.readings, source.label)
        readings, clashes = drop_conflicts(readings, source.label)
        result.add_problems([*batch.problems, *bad, *clashes])
        report.read += len(readings)
        result.read += len(readings)
        hints = hint_rows(batch.info.get("mapping_hint"))
        result.hints.extend(h for h in hints if h not in result.hints)
        if len(readings):
            yield apply_mapping(readings, with_hints(plan.table, hints))
        if plan.cancelled():
            result.cancelled = True
            return
    if tracker is not None:
        result.add_problems(gap_problems(tracker.gaps(), source.label))


def _remember_codes(batch: ReadingBatch) -> None:
    """Encodings a connector made of its string columns (`info["string_codes"]`): the
    guards, the mapping and the writer then need not hash millions of strings."""
    for column, encoding in (batch.info.get("string_codes") or {}).items():
        if column in batch.readings.columns:
            string_codes.remember(batch.readings[column], encoding)


def _announced(
    plan: RunPlan, report: SourceReport, batches: Iterator[ReadingBatch]
) -> Iterator[ReadingBatch]:
    """The batches, announcing the source once the first is read (it names the layout)."""
    told = False

    def tell(first: ReadingBatch | None) -> None:
        nonlocal told
        if told:
            return
        told = True
        info = first.info if first is not None else {}
        if info.get("layout"):
            report.layout = str(info["layout"])
            score = info.get("layout_score")
            report.layout_score = float(score) if score is not None else None
        for callback in (plan.announce, plan.detail):
            if callback is not None:
                callback(report)

    try:
        for batch in batches:
            tell(batch)
            yield batch
    finally:
        tell(None)


def run(plan: RunPlan, handle: Deliver, result: RunResult) -> RunResult:
    """Read every source and hand each mapped batch to `handle`.

    A source that cannot be read is named in `result.errors`; the others go on.
    Client errors (authentication, exhausted retries) stop the run and propagate.
    """
    total = len(plan.sources)
    for number, source in enumerate(plan.sources):
        try:
            for mapped in mapped_batches(plan, source, result):
                result.add_delivery(handle(mapped))
                _tell(plan, source, number, total, result)
        except SourceError as exc:
            result.errors.append(str(exc) if exc.file else f"{source.label}: {exc}")
        except OSError as exc:  # a folder, a vanished or locked file: name it, go on
            result.errors.append(f"{source.label}: cannot be read ({exc.strerror or exc})")
        if result.cancelled or plan.cancelled():
            result.cancelled = True
            break
        _tell(plan, source, number + 1, total, result)
    return result


def _tell(plan: RunPlan, source: Source, done: int, total: int, result: RunResult) -> None:
    if plan.progress is not None:
        moved = result.sent + result.written + result.rejected
        plan.progress(Progress(source.label, done, total, result.read, moved))


def convert(plan: RunPlan, out_dir: Path, *, label: Any = "end") -> RunResult:
    """Write EnergyCAP import files (CSV + profile) for every source into `out_dir`.

    Raises:
        ExportError: readings the Import API cannot carry (mapped by channel_id).
    """
    result = RunResult(writes_files=True)
    writer = ImportFileWriter(out_dir, label=label)

    def write(mapped: pd.DataFrame) -> DeliveryResult:
        carried, held = drop_channel_ids(mapped, str(out_dir))
        result.add_problems(held)
        result.written += writer.write(carried)
        return DeliveryResult()

    try:
        run(plan, write, result)
    finally:
        result.outputs = writer.close()
    return result


def send(plan: RunPlan, handle: Deliver, result: RunResult | None = None) -> RunResult:
    """Read every source and hand each mapped batch to `handle` (the journal: `cli.journal.send`).

    Pass `result` to keep what was done so far when a client error stops the run.
    """
    return run(plan, handle, result if result is not None else RunResult())
