"""`meterbridge deliver`, `status` and `replay`: the journal from the command line.

deliver [--ecap-url URL] [--api A] [--time-label L] [--overwrite]
    Send what the journal holds pending (after a crash, an outage, a restart).
status [--dead-letters] [--held] [--receipts N]
    Pending / sent / delivered / rejected / held counts per source, oldest pending.
replay [--source S] [connection options]
    Re-queue dead-lettered readings (after fixing the mapping) and deliver them.
held [list|send|discard] (see held_cmd)
    Readings held for a decision, sent (overwrite) or discarded by id.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from app.cli import EXIT_OK, UsageError
from app.cli.journal import held as held_cmd
from app.cli.journal.deliver import (
    add_connection_options,
    connection_settings,
    deliver_journal,
    resume_options,
)
from app.cli.loading import load_home, open_journal, open_journal_views

if TYPE_CHECKING:  # loaded by the commands that use them: `status` never loads pandas
    import pandas as pd

    from app.core.journal.views import JournalViews

LIST_LIMIT = 50


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the `deliver`, `status` and `replay` commands."""
    deliver = subparsers.add_parser(
        "deliver", parents=[common], help="send the readings the journal holds pending"
    )
    add_connection_options(deliver)
    deliver.set_defaults(func=run_deliver)
    status = subparsers.add_parser(
        "status", parents=[common], help="journal counts per source, oldest pending reading"
    )
    status.add_argument("--dead-letters", action="store_true", help="list rejected readings")
    status.add_argument("--held", action="store_true", help="list readings held for a decision")
    status.add_argument("--receipts", type=int, default=0, metavar="N", help="last N batches")
    status.add_argument(
        "--reading", metavar="SOURCE_ID", help="each reading of this source id with its receipt"
    )
    status.add_argument("--from", dest="since", metavar="TIME", help="with --reading: from (ISO)")
    status.add_argument("--to", dest="until", metavar="TIME", help="with --reading: to (ISO)")
    status.set_defaults(func=run_status)
    replay = subparsers.add_parser(
        "replay", parents=[common], help="resend rejected readings after a fix (e.g. mapping)"
    )
    replay.add_argument("--source", metavar="S", help="only readings of this source")
    add_connection_options(replay)
    replay.set_defaults(func=run_replay)
    held_cmd.register(subparsers, common)  # `held`: readings waiting for a decision


def run_deliver(args: argparse.Namespace) -> int:
    """`meterbridge deliver`: drain the journal."""
    _, settings = load_home(args)
    journal = open_journal(args, settings)
    return deliver_journal(args, settings, journal)


def run_replay(args: argparse.Namespace) -> int:
    """`meterbridge replay`: re-queue dead letters, then deliver them if a URL is known."""
    _, settings = load_home(args)
    journal = open_journal(args, settings)
    count = journal.replay(args.source)
    print(
        f"{count} rejected readings queued again"
        + (f" (source {args.source})" if args.source else "")
    )
    resume_options(args, journal)
    if connection_settings(args, settings) is None:
        print("no EnergyCAP URL is set: run `meterbridge deliver --ecap-url URL` to send them")
        return EXIT_OK
    return deliver_journal(args, settings, journal)


def run_status(args: argparse.Namespace) -> int:
    """`meterbridge status`: what the journal holds."""
    _, settings = load_home(args)
    journal = open_journal_views(args)
    print(status_table(journal))
    used, bound = journal.used_bytes(), settings.journal.max_bytes
    print(f"journal {journal.path}: {used / 1e6:.1f} MB of its {bound / 1e6:.0f} MB bound")
    if args.receipts:
        for receipt in journal.receipts(args.receipts):
            print(describe_receipt(receipt))
    if args.dead_letters:
        _list(journal.dead_letters(limit=10_000), args.verbose)
    if args.held:
        _list(journal.held_readings(limit=10_000), args.verbose)
    if args.reading:
        _history(journal, args)
    return EXIT_OK


def _instant(text: str | None, flag: str) -> pd.Timestamp | None:
    if text is None:
        return None
    import pandas as pd

    try:
        when = pd.Timestamp(text)
    except ValueError:
        message = f"{flag}: {text!r} is not a date/time (use ISO, e.g. 2026-01-31T00:00Z)"
        raise UsageError(message) from None
    if when.tzinfo is None:
        raise UsageError(f"{flag}: {text!r} has no UTC offset; add Z or +01:00")
    return when


def _history(journal: JournalViews, args: argparse.Namespace) -> None:
    import pandas as pd

    since, until = _instant(args.since, "--from"), _instant(args.until, "--to")
    frame = journal.reading_receipts(args.reading, since, until, limit=100_000)
    shown = frame if args.verbose else frame.head(LIST_LIMIT)
    for row in shown.itertuples(index=False):
        steps = [f"journaled {_stamp(row.accepted_at)}"]
        if pd.notna(row.sent_at):
            steps.append(f"sent {_stamp(row.sent_at)} (batch {row.batch})")
        if row.state in ("confirmed", "rejected") and pd.notna(row.done_at):
            steps.append(f"{row.state} {_stamp(row.done_at)}")
        else:
            steps.append(str(row.state))
        reason = f": {row.reason}" if isinstance(row.reason, str) and row.reason else ""
        head = f"{row.source} {row.source_id} {row.quantity} {row.time.isoformat()} {row.value!r}"
        print(f"{head}: {' → '.join(steps)}{reason}")
    if len(shown) < len(frame):
        print(f"... and {len(frame) - len(shown)} more (use -v to list them all)")
    if frame.empty:
        print(f"no readings of {args.reading!r} in the journal (delivered ones are pruned)")


def _stamp(when: pd.Timestamp) -> str:
    return when.isoformat(timespec="seconds")


STATUS_COLUMNS = ("pending", "sent", "confirmed", "rejected", "held")


def status_table(journal: JournalViews) -> str:
    """Counts per source and state, with the oldest pending reading."""
    header = f"{'source':<24}" + "".join(f"{c:>11}" for c in STATUS_COLUMNS) + "  oldest pending"
    lines = [header]
    for status in journal.status():
        counts = [status.count(c) for c in STATUS_COLUMNS]
        counts[-1] += status.held_changes
        oldest = "-"
        if status.oldest_pending is not None:
            oldest = (
                status.oldest_pending.isoformat()
                + f" (journaled {_when(status.oldest_pending_accepted)})"
            )
        lines.append(f"{status.source:<24}" + "".join(f"{n:>11}" for n in counts) + f"  {oldest}")
    if len(lines) == 1:
        lines.append("(the journal is empty)")
    return "\n".join(lines)


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def describe_receipt(receipt: dict[str, Any]) -> str:
    """One line per batch receipt."""
    parts = [
        f"batch {receipt['id']}: {receipt['api']} sent {_when(receipt['started_at'])}",
        f"HTTP {receipt['http_status'] or '-'}",
        f"{receipt['count']} readings",
        f"{receipt['confirmed']} confirmed",
        f"{receipt['rejected']} rejected",
        f"status {receipt['status']}",
    ]
    if receipt["task_guid"]:
        parts.append(f"task {receipt['task_guid']}")
    if receipt["message"]:
        parts.append(str(receipt["message"])[:200])
    return ", ".join(parts)


def _list(frame: pd.DataFrame, verbose: int) -> None:
    shown = frame if verbose else frame.head(LIST_LIMIT)
    for row in shown.itertuples(index=False):
        where = f"{row.origin}: " if isinstance(row.origin, str) and row.origin else ""
        what = f"{row.source} {row.source_id} {row.quantity} {row.time.isoformat()}"
        print(f"{where}{what} value {row.value!r}: {row.reason}")
    if len(shown) < len(frame):
        print(f"... and {len(frame) - len(shown)} more (use -v to list them all)")
