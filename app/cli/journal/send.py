"""`meterbridge send` through the journal: journal every reading, then deliver and wait.

Readings are journaled raw (unmapped), keyed by the connector id as their
source, so re-sending a file (or an overlapping export of the same meters)
is recognised reading by reading; the mapping is applied at delivery time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from app.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, UsageError
from app.cli.loading import open_journal  # also imported from here by serve_cmd
from app.cli.run_output import print_result
from app.core.delivery.engine import DeliveryReport, deliver_pending
from app.core.delivery.send import crash_point
from app.core.energycap.client import (
    AuthError,
    EnergyCapClient,
    EnergyCapError,
    RedirectError,
    RetryPolicy,
)
from app.core.guards import where
from app.core.journal.store import AcceptResult, Journal, JournalFullError
from app.core.mapping import MappingTable
from app.core.pipeline import RunPlan, send
from app.core.report import DeliveryResult, Rejection, RunResult, SourceReport
from app.core.settings import EnergyCapSettings, Settings
from connectors.base import READING_COLUMNS, Problem, ProblemKind, conform


@dataclasses.dataclass
class _Intake:
    """Journals each batch the pipeline reads, under its connector's id."""

    journal: Journal
    result: RunResult = dataclasses.field(default_factory=RunResult)
    accepted: AcceptResult = dataclasses.field(default_factory=AcceptResult)
    source: str = "file"
    full: JournalFullError | None = None

    def announce(self, report: SourceReport) -> None:
        self.source = report.connector or "file"
        print(f"{report.name}: connector {report.connector} (score {report.score or 0:.2f})")

    def __call__(self, readings: pd.DataFrame) -> DeliveryResult:
        if self.full is None:
            frame = conform(readings.loc[:, list(READING_COLUMNS)])
            # The identities a Readings-API body named (gathered by the pipeline before
            # it hands over the batch) are journaled with the readings they address.
            hints = self.result.hints
            if hints:  # only those naming this batch's sources (most files have none)
                ids = set(frame["source_id"].dropna().unique().tolist())
                hints = [h for h in hints if h.source_id in ids]
            try:
                self.accepted.add(self.journal.accept(frame, source=self.source, hints=hints))
            except JournalFullError as exc:
                self.full = exc
        return DeliveryResult()


def journal_sources(plan: RunPlan, journal: Journal) -> tuple[RunResult, AcceptResult]:
    """Read every source and journal its readings (raw: the mapping comes at delivery).

    Raises:
        JournalFullError: the journal is full (what was journaled before stays).
    """
    intake = _Intake(journal)
    # Once the journal is full the rest of the source is read but not stored (not
    # cancelled): an abandoned connector generator would leave its file open.
    raw = dataclasses.replace(plan, table=MappingTable(), announce=intake.announce)
    result = send(raw, intake, intake.result)
    if intake.full is not None:
        raise intake.full
    return result, intake.accepted


def send_through_journal(
    args: argparse.Namespace,
    settings: Settings,
    client: EnergyCapClient,
    ecap: EnergyCapSettings,
    plan: RunPlan,
) -> int:
    """`meterbridge send`: journal the sources, deliver everything pending, report."""
    _check_connection(client)
    journal = open_journal(args, settings)
    try:
        result, accepted = journal_sources(plan, journal)
    except JournalFullError as exc:
        print(f"meterbridge: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    remember_send(journal, args, client, ecap)
    crash_point("after_journal_commit")
    print(f"journaled: {accepted.describe()}")
    report = deliver_and_tell(args, settings, client, ecap, plan.table, journal)
    if _all_already_delivered(accepted, report):
        print(f"{accepted.already_delivered} already delivered, nothing new to send")
    code = EXIT_OK
    if accepted.already_rejected:
        print(
            f"{accepted.already_rejected} readings were rejected by EnergyCAP before and are "
            "not sent again: see `meterbridge status --dead-letters`, fix, then `meterbridge "
            "replay`"
        )
        code = EXIT_PARTIAL
    if accepted.changed_held and not getattr(args, "overwrite", False):
        print(
            f"{accepted.changed_held} readings differ from values already delivered and are "
            "held: rerun with --overwrite to replace EnergyCAP's values"
        )
        code = EXIT_PARTIAL
    result.sent, result.rejected = report.confirmed, report.rejected
    # "held back" counts the readings held for a decision (changed values) and those
    # the API cannot carry, as well as those the source's problems withheld.
    held = accepted.changed_held if not getattr(args, "overwrite", False) else 0
    result.held_back += held + report.held
    result.add_problems(not_sent_of(journal, report))
    result.rejections.extend(rejections_of(journal, report))
    return max(code, print_result(result, verbose=args.verbose), exit_code(report))


def _all_already_delivered(accepted: AcceptResult, report: DeliveryReport) -> bool:
    """Readings were read, and every one of them was delivered before (nothing else to say)."""
    every = accepted.total > 0 and accepted.already_delivered == accepted.total
    return every and report.confirmed == 0 and report.complete


LAST_SEND = "last_send"


def remember_send(
    journal: Journal, args: argparse.Namespace, client: EnergyCapClient, ecap: EnergyCapSettings
) -> None:
    """Keep this send's connection options, so `deliver` after a crash can reuse them."""
    mapping = str(Path(args.mapping).resolve()) if args.mapping else None
    options = {"url": client.base_url, "api": ecap.api, "time_label": ecap.time_label}
    journal.set_meta(LAST_SEND, json.dumps({**options, "mapping": mapping}))


def rejections_of(journal: Journal, report: DeliveryReport) -> list[Rejection]:
    """The run's refused readings as the CLI lists them: origin first, then the reason."""
    frame = journal.readings_by_id(report.rejected_ids)
    listed = [Rejection.of_reading(row) for row in frame.itertuples(index=False)]
    missing = report.rejected - len(listed)
    if missing > 0:
        listed.append(Rejection("see `meterbridge status --dead-letters`", count=missing))
    return listed


def not_sent_of(journal: Journal, report: DeliveryReport) -> list[Problem]:
    """Readings the API cannot carry (dead-lettered, never sent): one problem per source."""
    frame = journal.readings_by_id(report.not_sent_ids)
    problems = []
    for source_id, rows in frame.groupby("source_id", sort=True):
        file, line, column = where(rows["origin"].iloc[0], "")
        problems.append(
            Problem(
                ProblemKind.HELD_BACK,
                str(rows["reason"].iloc[0]),
                file=file or None,
                line=line,
                column=column,
                source_id=str(source_id),
                count=len(rows),
            )
        )
    missing = report.not_sent - len(frame)
    if missing > 0:
        message = "more readings this API cannot carry: see `meterbridge status --dead-letters`"
        problems.append(Problem(ProblemKind.HELD_BACK, message, count=missing))
    return problems


def _check_connection(client: EnergyCapClient) -> None:
    """Refuse a wrong key or host before reading; an outage does not stop journaling.

    One attempt only: during an outage the readings are journaled at once and
    delivery then waits EnergyCAP out.
    """
    policy = client.retry
    client.retry = RetryPolicy(1, policy.base_s, policy.cap_s)
    try:
        client.check()
    except AuthError as exc:
        raise UsageError(str(exc)) from None
    except RedirectError as exc:  # a wrong URL: journal, but nothing goes out until fixed
        print(f"warning: {exc}; readings are journaled, not sent")
    except EnergyCapError as exc:
        print(f"warning: {exc}; readings are journaled and delivered when EnergyCAP answers")
    finally:
        client.retry = policy


def deliver_and_tell(
    args: argparse.Namespace,
    settings: Settings,
    client: EnergyCapClient,
    ecap: EnergyCapSettings,
    table: MappingTable,
    journal: Journal,
) -> DeliveryReport:
    """Drain the journal and print what happened (reasons of refusals included)."""
    report = deliver_pending(
        journal,
        client,
        ecap,
        table,
        overwrite=bool(getattr(args, "overwrite", False)),
        patience_s=settings.journal.outage_patience_s,
        lock_wait_s=settings.journal.outage_patience_s,
        progress=_progress_printer(args, journal.counts()["pending"]),
    )
    print(report.describe())
    counts = journal.counts()
    waiting = counts["held"] + counts["held_changes"]
    if waiting:
        print(f"{waiting} readings are held: EnergyCAP already has other values for them")
        print("  (see `meterbridge status --held`; `--overwrite` replaces them)")
    if report.rejected:
        print(f"{report.rejected} readings rejected by EnergyCAP: listed below and kept")
        print("  (see `meterbridge status --dead-letters`; fix, then `meterbridge replay`)")
    if report.not_sent:
        print(f"{report.not_sent} readings not sent: no request can carry them (listed below)")
        print("  (kept as dead letters: fix the mapping or the API, then `meterbridge replay`)")
    if report.unconfirmed:
        print(
            f"{report.unconfirmed} readings not confirmed: EnergyCAP's answer did not account "
            "for them; kept pending (`meterbridge deliver` sends them again)"
        )
        for note in report.notes[:5]:
            print(f"  {note}")
    if report.stopped:
        print(f"meterbridge: delivery stopped: {report.stopped}", file=sys.stderr)
    return report


def _progress_printer(args: argparse.Namespace, total: int) -> Any:
    """A tqdm bar on a terminal (stderr), a line per batch with -v, else nothing."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar: Any = tqdm(total=total, unit=" readings", unit_scale=True, file=sys.stderr)
        bar.set_description("delivering")

        def advance(report: DeliveryReport) -> None:
            done = report.confirmed + report.rejected + report.held + report.already_delivered
            bar.update(done - bar.n)

        return advance
    if args.verbose:
        return lambda r: print(f"  ... delivered {r.confirmed}, rejected {r.rejected}", flush=True)
    return None


def exit_code(report: DeliveryReport) -> int:
    """0 all confirmed; 1 some rejected, held or still pending; 2 key/host refused."""
    if report.auth_failed:
        return EXIT_ERROR
    return EXIT_OK if report.complete else EXIT_PARTIAL
