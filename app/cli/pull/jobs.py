"""`meterbridge jobs list|run|pause|resume|delete`: the saved, scheduled pulls."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from app.core.pulls.jobs import Job, JobStore


def register_jobs(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the `jobs` command."""
    jobs = subparsers.add_parser("jobs", help="list, run, pause or resume scheduled pulls")
    actions = jobs.add_subparsers(dest="jobs_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", parents=[common], help="jobs with next/last run")
    listing.set_defaults(func=run_list)
    run = actions.add_parser("run", parents=[common], help="run jobs now")
    run.add_argument("names", nargs="*", metavar="NAME", help="jobs to run (default: due ones)")
    run.add_argument("--ecap-url", metavar="URL", help="EnergyCAP host (overrides the setting)")
    run.add_argument("--overwrite", action="store_true",
                     help="replace values EnergyCAP already has (held readings)")  # fmt: skip
    run.set_defaults(func=run_jobs)
    for action, text in (("pause", "stop running on schedule"), ("resume", "run on schedule"),
                         ("delete", "forget the job")):  # fmt: skip
        parser = actions.add_parser(action, parents=[common], help=text)
        parser.add_argument("name", metavar="NAME")
        parser.set_defaults(func=run_change, action=action)


def _store(args: argparse.Namespace) -> JobStore:
    from app.core.paths import resolve_paths
    from app.core.pulls.jobs import JobStore

    paths = resolve_paths(args.home).ensure()
    return JobStore(paths.data_dir / "jobs.sqlite3")


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z") if moment else "never"


def duration(interval: timedelta) -> str:
    """``30s``, ``15m``, ``2h``, ``1d``: the largest whole unit."""
    seconds = int(interval.total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def describe(job: Job) -> str:
    """One job in one line: name, kind, schedule, state, next and last run."""
    state = "paused" if job.paused else f"next {_when(job.next_run)}"
    last = f"last {_when(job.last_start)}: {job.last_status or '-'}"
    if job.last_message:
        last += f" ({job.last_message})"
    return f"{job.name}  {job.kind}  every {duration(job.interval)}  {state}  {last}"


def run_list(args: argparse.Namespace) -> int:
    """Print every job."""
    jobs = _store(args).list()
    for job in jobs:
        print(describe(job))
    if not jobs:
        print("no jobs; save one with `meterbridge pull ... --save-job NAME --every 15m`")
    return EXIT_OK


def run_jobs(args: argparse.Namespace) -> int:
    """Run named jobs now, or the due ones."""
    from app.cli.pull.common import scheduler_for
    from app.core.paths import resolve_paths
    from app.core.pulls.runner import Destination

    paths = resolve_paths(args.home).ensure()
    scheduler = scheduler_for(
        paths, Destination(ecap_url=args.ecap_url, mapping=args.mapping, overwrite=args.overwrite)
    )
    try:
        outcomes = [scheduler.run_now(n) for n in args.names] or scheduler.run_pending()
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    for job in scheduler.store.list():
        if not args.names or job.name in args.names:
            print(describe(job))
    if any(not o.ok for o in outcomes):
        return EXIT_ERROR
    return EXIT_PARTIAL if any(o.partial for o in outcomes) else EXIT_OK


def run_change(args: argparse.Namespace) -> int:
    """Pause, resume or delete a job."""
    store = _store(args)
    try:
        if args.action == "delete":
            store.delete(args.name)
        else:
            store.set_paused(args.name, args.action == "pause")
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    print(f"{args.name}: {args.action}d")
    return EXIT_OK
