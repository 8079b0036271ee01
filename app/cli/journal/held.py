"""`meterbridge held`: readings held for a decision, listed, sent (overwrite) or discarded.

held [list] [--source S]
    Each held reading: id, source, channel, time (UTC and local), the value
    EnergyCAP has, the new value, why it is held.
held send (--id N [N ...] | --all) [--source S] [--no-deliver]
    Queue the new values with the overwrite flag; deliver them now when an
    EnergyCAP URL is known (as the GUI's "Send the new values" does).
held discard (--id N [N ...] | --all) [--source S]
    Keep the values EnergyCAP has (as the GUI's "Keep the delivered values").
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.cli import EXIT_OK, UsageError
from app.cli.journal.deliver import (
    add_connection_options,
    connection_settings,
    deliver_journal,
    resume_options,
)
from app.cli.loading import load_home, open_journal

if TYPE_CHECKING:
    from app.core.journal.store import Journal

LIST_LIMIT = 50


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add `held` with its actions list, send and discard."""
    held = subparsers.add_parser(
        "held", parents=[common], help="readings held for a decision: list, send or discard"
    )
    held.add_argument("action", nargs="?", default="list", choices=("list", "send", "discard"))
    held.add_argument("--source", metavar="S", help="only readings of this source")
    held.add_argument("--id", dest="ids", type=int, nargs="+", metavar="N", help="reading ids")
    held.add_argument("--all", action="store_true", help="every held reading (of --source)")
    held.add_argument(
        "--no-deliver", action="store_true", help="send: only queue them for the next delivery"
    )
    add_connection_options(held)
    held.set_defaults(func=run_held)


def run_held(args: argparse.Namespace) -> int:
    """`meterbridge held`."""
    from app.core.journal.held import discard_held_ids, release_held_ids

    _, settings = load_home(args)
    journal = open_journal(args, settings)
    if args.action == "list":
        return list_held(journal, args.source, args.verbose)
    ids = _chosen(journal, args)
    if args.action == "discard":
        count = discard_held_ids(journal, ids)
        print(f"{count} held readings discarded: EnergyCAP keeps the values it has")
        return EXIT_OK
    count = release_held_ids(journal, ids)
    print(f"{count} held readings queued to replace EnergyCAP's values")
    return _deliver_now(args, settings, journal) if count and not args.no_deliver else EXIT_OK


def _chosen(journal: Journal, args: argparse.Namespace) -> list[int]:
    from app.core.journal.held import held_ids

    if bool(args.ids) == bool(args.all):
        raise UsageError(f"held {args.action} needs either --id N [N ...] or --all")
    if args.all:
        return held_ids(journal, args.source)
    held_now = set(held_ids(journal, args.source))
    unknown = [i for i in args.ids if i not in held_now]
    if unknown:
        where = f" of source {args.source!r}" if args.source else ""
        listed = ", ".join(map(str, unknown))
        raise UsageError(f"no held reading{where} has id {listed} (see `meterbridge held`)")
    return list(args.ids)


def _deliver_now(args: argparse.Namespace, settings: Any, journal: Journal) -> int:
    resume_options(args, journal)
    if connection_settings(args, settings) is None:
        print("no EnergyCAP URL is set: they go with the next delivery (`meterbridge deliver`)")
        return EXIT_OK
    return deliver_journal(args, settings, journal)


def list_held(journal: Journal, source: str | None, verbose: int) -> int:
    """Print the held readings (the first 50 unless -v)."""
    from app.core.journal.held import held_decisions

    frame = held_decisions(journal, source)
    shown = frame if verbose else frame.head(LIST_LIMIT)
    for row in shown.itertuples(index=False):
        print(describe_held(row))
    if len(shown) < len(frame):
        print(f"... and {len(frame) - len(shown)} more (use -v to list them all)")
    if frame.empty:
        print("no readings are held for a decision")
    else:
        print("send them: `meterbridge held send --all`; keep EnergyCAP's: `held discard --all`")
    return EXIT_OK


def describe_held(row: Any) -> str:
    """One line: id, source, channel, UTC and local time, delivered → new, why."""
    import pandas as pd

    from app.core.journal.held import local_time

    when: pd.Timestamp = row.time
    local = local_time(when).isoformat()
    had = "unknown" if pd.isna(row.delivered) else f"{row.delivered!r}"
    return (
        f"#{row.id} {row.source} {row.source_id} {row.quantity} {when.isoformat()} "
        f"(local {local}): EnergyCAP has {had}, new {row.new!r} — {row.reason}"
    )
