"""What every `pull` shares: its options, saved jobs, the run of one poll and its exit code.

`pull verdigris`, `pull sftp`, `pull folder`, `jobs` and `serve` import this module, never one
another.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.cli import EXIT_ERROR, EXIT_PARTIAL, UsageError

if TYPE_CHECKING:
    from app.core.paths import AppPaths
    from app.core.pulls.file_intake import IntakeReport
    from app.core.pulls.runner import Destination
    from app.core.pulls.scheduler import Scheduler
    from app.core.pulls.submit import Submitter
    from app.core.settings import Settings

DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_every(text: str) -> timedelta:
    """``30s``, ``15m``, ``1h``, ``1d`` as a timedelta."""
    match = DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"--every {text!r}: give a number and s, m, h or d (e.g. 15m)")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def parse_time(text: str | None, flag: str) -> datetime | None:
    """An ISO-8601 time with an offset (or Z); a date alone means its UTC midnight."""
    from app.core.pulls.verdigris_pull import utc

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not an ISO-8601 time") from None
    if moment.tzinfo is None and len(text) <= 10:
        moment = moment.replace(tzinfo=UTC)
    try:
        return utc(moment)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def shared_options(p: argparse.ArgumentParser, *, secret: bool = True) -> None:
    """Options every pull takes: the job, the delivery (and `--save-secret` where one is used)."""
    if secret:
        p.add_argument(
            "--save-secret",
            action="store_true",
            help="ask for the secret/password and keep it in the OS keyring",
        )
    p.add_argument("--job", metavar="NAME", help="start from this saved job's configuration")
    p.add_argument("--save-job", metavar="NAME", help="save the configuration as a job")
    p.add_argument("--every", metavar="DUR", default="15m", help="job schedule (default 15m)")
    p.add_argument("--ecap-url", metavar="URL", help="EnergyCAP host (overrides the setting)")
    p.add_argument("--api", choices=("readings", "esa", "import"), help="EnergyCAP API to use")
    p.add_argument("--time-label", choices=("end", "start"), help="EnergyCAP time marks")
    p.add_argument("--overwrite", action="store_true",
                   help="replace values EnergyCAP already has (held readings)")  # fmt: skip


def saved_config(paths: AppPaths, name: str | None, kind: str) -> dict[str, Any]:
    from app.core.pulls.jobs import JobStore

    if not name:
        return {}
    try:
        job = JobStore(paths.data_dir / "jobs.sqlite3").get(name)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    if job.kind != kind:
        raise UsageError(f"job {name!r} is a {job.kind} job, not {kind}")
    return dict(job.config)


def save_job(args: argparse.Namespace, paths: AppPaths, kind: str, config: dict[str, Any]) -> None:
    """Save `--save-job NAME` (replacing a job of the same kind, never one of another)."""
    from app.core.pulls.jobs import JobStore

    if not args.save_job:
        return
    every = parse_every(args.every)
    store = JobStore(paths.data_dir / "jobs.sqlite3")
    other = {j.name: j.kind for j in store.list()}.get(args.save_job, kind)
    if other != kind:
        raise UsageError(
            f"a {other} job is called {args.save_job!r}: choose another name, "
            f"or delete it first (meterbridge jobs delete {args.save_job})"
        )
    store.save(args.save_job, kind, config, every, first_run=datetime.now(UTC) + every)
    print(f"saved job {args.save_job!r} ({kind}, every {args.every})")


def destination(args: argparse.Namespace) -> Destination:
    from app.core.pulls.runner import Destination

    return Destination(args.ecap_url, args.api, args.time_label, args.mapping, args.overwrite)


def run_intake(
    args: argparse.Namespace,
    paths: AppPaths,
    settings: Settings,
    kind: str,
    poll: Callable[[Submitter], IntakeReport],
) -> int:
    """Run one poll of files (SFTP or local folders), delivered like `send`; print the outcome.

    Exit code: 0 all delivered; 1 some files named as unreadable, readings held
    back, refused or still pending; 2 the poll could not run (e.g. a missing
    folder, a refused host key or API key), said in one sentence on stderr.
    """
    from app.core.pulls.runner import PullErrors, open_submitter

    started: list[Submitter] = []
    try:
        with (
            open_submitter(
                paths,
                settings,
                destination(args),
                "meterbridge pull",
                print,
                source=journal_source(args, kind),
            ) as sub,  # fmt: skip
            progress_bar(sub),
        ):
            started.append(sub)
            report = poll(sub)
    except PullErrors as exc:
        return failed(exc, started, args)
    print_intake(report, sub.result.errors)
    code = exit_code(sub, args)
    files_only = sub.result.errors and not (sub.delivery and sub.delivery.auth_failed)
    return EXIT_PARTIAL if code == EXIT_ERROR and files_only else code


def print_intake(report: IntakeReport, errors: list[str]) -> None:
    """The files' warnings (those not printed as errors) and their counts."""
    for warning in report.warnings:
        if warning not in errors:
            print(f"warning: {warning}")
    print(f"{len(report.imported)} new files imported, {len(report.rejected)} unreadable, "
          f"{report.skipped} already imported, {report.archived} archived"
          + (f", {report.waiting} left for the next poll" if report.waiting else ""))  # fmt: skip


def journal_source(args: argparse.Namespace, kind: str) -> str:
    """The journal source of a pull: ``pull:<job>`` (saved, or saved now) or ``pull:<kind>``.

    A pull that saves a job journals under the job's name, so the job's later
    runs recognise its readings (a changed value is held, not sent blindly).
    """
    job = getattr(args, "job", None) or getattr(args, "save_job", None)
    return f"pull:{job or kind}"


def exit_code(sub: Submitter, args: argparse.Namespace) -> int:
    """`send`'s exit code: 1 also when readings stay pending (outage), 2 when the key is refused."""
    from app.cli.run_output import print_result

    code = print_result(sub.result, verbose=args.verbose)
    delivery = sub.delivery
    if delivery is None or delivery.busy or delivery.stopped is None:
        return code
    return max(code, EXIT_ERROR if delivery.auth_failed else EXIT_PARTIAL)


def failed(exc: Exception, started: list[Submitter], args: argparse.Namespace) -> int:
    """Say what stopped the pull, and what had been done before it stopped."""
    from app.cli.run_output import print_result

    print(f"meterbridge: error: {exc}", file=sys.stderr)
    if started and started[0].result.read:
        print_result(started[0].result, verbose=args.verbose)
    return EXIT_ERROR


@contextmanager
def progress_bar(sub: Any, label: str = "pulled") -> Iterator[None]:
    """A bar of readings pulled on a terminal (stderr); nothing in scripts and logs."""
    from app.cli.run_output import ProgressBar
    from app.core.pipeline import Progress

    bar = ProgressBar.for_terminal()
    if bar is not None:
        sub.progress = lambda r: bar.update(Progress(label, 0, 1, r.read, r.sent + r.written))
    try:
        yield
    finally:
        if bar is not None:
            read = sub.result.read
            bar.update(Progress(label, 1, 1, read, read))


def scheduler_for(paths: AppPaths, dest: Destination | None = None) -> Scheduler:
    """The scheduler over this home's saved jobs (for `serve` and `jobs run`)."""
    from app.core.pulls.runner import scheduler_for as core_scheduler_for
    from app.core.settings import load_settings

    return core_scheduler_for(paths, load_settings(paths.settings_file), dest)
