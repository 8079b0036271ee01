"""Where pulled readings go: the journal first, as with `meterbridge send`.

`Submitter` is the one `submit(batch)` the pulls call. It drops unusable
rows and hands the batch on: with EnergyCAP set, raw to the journal
(`journal_intake`, committed before `submit` returns, so a pull moves its
bookmark only after its readings are durable), delivered afterwards by
`deliver_journaled` (the journal's delivery engine, mapping applied there);
without a URL, mapped to the outbox writer. It keeps a `RunResult` the CLI
prints exactly like `send`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from app.core.delivery.engine import DeliveryReport, deliver_pending
from app.core.energycap.client import EnergyCapClient
from app.core.guards import where
from app.core.journal.store import AcceptResult, Journal
from app.core.mapping import MappingTable, apply_mapping
from app.core.report import DeliveryResult, Rejection, RunResult, SourceReport
from app.core.settings import EnergyCapSettings
from connectors.base import (
    READING_COLUMNS,
    Problem,
    ProblemKind,
    ReadingBatch,
    conform,
)
from connectors.finite import drop_non_finite

Deliver = Callable[[pd.DataFrame], DeliveryResult]


class Submitter:
    """Map and deliver batches of pulled readings, counting what happened.

    Args:
        table: the mapping (source id → EnergyCAP channel).
        deliver: hands on one frame (`journal_intake`, or the outbox writer).
        result: the run's tally (a new one by default).
        map_first: map before `deliver` (the outbox); False hands raw readings
            (the journal, which maps at delivery).
    """

    def __init__(
        self,
        table: MappingTable,
        deliver: Deliver,
        result: RunResult | None = None,
        *,
        map_first: bool = True,
    ):
        self.table = table
        self.deliver = deliver
        self.result = result if result is not None else RunResult()
        self.map_first = map_first
        self.progress: Callable[[RunResult], None] | None = None  # after each batch
        self.delivery: DeliveryReport | None = None  # the journal's delivery, once run
        self.accepted = AcceptResult()  # what the journal made of the batches (journal only)
        self.held = 0  # readings held for a decision (changed after delivery, or differing)

    def source(self, name: str, connector: str) -> SourceReport:
        """Open a report line for one pulled source (a Verdigris request set, an SFTP file)."""
        report = SourceReport(name, connector, 1.0)
        self.result.sources.append(report)
        return report

    def __call__(self, batch: ReadingBatch, report: SourceReport | None = None) -> int:
        """Deliver one batch; returns the number of readings handed on."""
        readings = batch.readings
        readings = readings.loc[readings["time"].notna()].reset_index(drop=True)
        readings, not_finite = drop_non_finite(readings, report.name if report else "")
        self.result.add_problems([*batch.problems, *not_finite])
        self.result.read += len(readings)
        if report is not None:
            report.read += len(readings)
        if len(readings):
            handed = apply_mapping(readings, self.table) if self.map_first else readings
            self.result.add_delivery(self.deliver(handed))
        if self.progress is not None:
            self.progress(self.result)
        return len(readings)


def journal_intake(journal: Journal, source: str, accepted: AcceptResult | None = None) -> Deliver:
    """A `Deliver` that commits raw readings to the journal under `source` (durable on return).

    What the journal made of them (new, already delivered, changed and held...)
    is added to `accepted` when given.

    Raises (from the returned function):
        JournalFullError: the journal is full; nothing of that batch was stored.
    """

    def accept(readings: pd.DataFrame) -> DeliveryResult:
        outcome = journal.accept(conform(readings.loc[:, list(READING_COLUMNS)]), source=source)
        if accepted is not None:
            accepted.add(outcome)
        return DeliveryResult()

    return accept


def deliver_journaled(
    sub: Submitter,
    journal: Journal,
    client: EnergyCapClient,
    ecap: EnergyCapSettings,
    patience_s: float,
    *,
    overwrite: bool = False,
    source: str | None = None,
) -> DeliveryReport:
    """Deliver what the journal holds (as `send` does) and add the outcome to `sub.result`.

    Readings of `source` held for a decision (changed after delivery, or
    EnergyCAP has another value), this run's and those an earlier run held,
    count as "held back" and are listed, as `send` does; `overwrite` releases
    them and sends them after all.

    Another delivery already running from the same journal is left to send
    these readings too (`report.busy`); an outage that outlasts `patience_s`
    leaves them pending for the next `meterbridge deliver` (or run).
    """
    report = deliver_pending(
        journal, client, ecap, sub.table, overwrite=overwrite, patience_s=patience_s
    )
    sub.delivery = report
    sub.result.sent += report.confirmed
    sub.result.rejected += report.rejected
    rejected = journal.readings_by_id(report.rejected_ids).itertuples(index=False)
    sub.result.rejections.extend(Rejection.of_reading(row) for row in rejected)
    this_run = (0 if overwrite else sub.accepted.changed_held) + report.held
    waiting = journal.held_readings(source, limit=HELD_COUNT_LIMIT)
    # A pull reads each file once: what an earlier run held still waits, so it is
    # counted and listed again until `--overwrite` releases it.
    sub.held = max(this_run, len(waiting))
    sub.result.held_back += sub.held
    sub.result.problems.extend(held_problems(waiting, sub.held))
    return report


HELD_LIST_LIMIT = 50  # more than this: a count and `meterbridge status --held`
HELD_COUNT_LIMIT = 100_000  # held readings of one source looked at after a pull


def held_problems(waiting: pd.DataFrame, held: int) -> list[Problem]:
    """The run's held readings as listed lines: where, which reading, and why it is held.

    Up to `HELD_LIST_LIMIT` are named; the rest are one line with their count
    and the `meterbridge status --held` hint. They are listed, not counted
    again (`held` is already in "held back").
    """
    if held <= 0:
        return []
    problems = []
    for row in waiting.head(min(held, HELD_LIST_LIMIT)).itertuples(index=False):
        file, line, column = where(row.origin, "")
        message = f"{row.source_id} {row.time.isoformat()} held: {row.reason}"
        problems.append(Problem(ProblemKind.HELD_BACK, message, file=file or None, line=line,
                                column=column, source_id=str(row.source_id)))  # fmt: skip
    rest = held - len(problems)
    if rest > 0:
        message = (f"{rest} more readings held for a decision: see `meterbridge status --held`;"
                   " rerun with --overwrite to replace EnergyCAP's values")  # fmt: skip
        problems.append(Problem(ProblemKind.HELD_BACK, message, count=rest))
    return problems


LAST_SEND = "last_send"  # the journal meta entry `meterbridge deliver` falls back on


def remember_delivery(
    journal: Journal, url: str, ecap: EnergyCapSettings, mapping: str | None
) -> None:
    """Keep where this pull delivers, so a later `meterbridge deliver` needs no options."""
    resolved = str(Path(mapping).expanduser().resolve()) if mapping else None
    options = {"url": url, "api": ecap.api, "time_label": ecap.time_label, "mapping": resolved}
    journal.set_meta(LAST_SEND, json.dumps(options))
