"""`meterbridge pull verdigris|sftp|folder` and `meterbridge jobs list|run|pause|resume|delete`.

pull verdigris [--client-id ID] [--circuits IDS] [--breakers IDS] [--interval 15m]
               [--since ISO] [--until ISO] [--auth-url URL] [--api-url URL] [--list]
pull sftp --host H [--port P] --user U [--key FILE] --folder PATH [--folder ...]
          [--host-key-fingerprint SHA256:...] [--archive DIR] [--connector ID]
pull folder: see `app.cli.pull.folder`.
All take `--job NAME` (use a saved configuration; flags override it) and
`--save-job NAME [--every 15m]` (save it as a scheduled job), and deliver
like `send`: ``--ecap-url``, ``--api``, ``--time-label``, ``--mapping``.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from app.cli import EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, UsageError
from app.cli.run_output import ProgressBar, print_result
from app.core.paths import AppPaths, resolve_paths
from app.core.pipeline import Progress
from app.core.pulls.file_intake import IntakeReport
from app.core.pulls.jobs import JobStore
from app.core.pulls.runner import (
    Destination,
    PullErrors,
    open_submitter,
    run_sftp,
    run_verdigris,
)
from app.core.pulls.runner import scheduler_for as core_scheduler_for
from app.core.pulls.scheduler import Scheduler
from app.core.pulls.sftp.poll import SftpConfig, password_name
from app.core.pulls.submit import Submitter
from app.core.pulls.verdigris_auth import build_auth, secret_name
from app.core.pulls.verdigris_pull import VerdigrisConfig, utc
from app.core.secrets import NoKeyringError, SecretStore
from app.core.settings import Settings, load_settings
from connectors.base import SourceError
from connectors.verdigris.api import VerdigrisApi
from connectors.verdigris.listing import building_tree

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


def _ids(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the `pull` and `jobs` commands."""
    pull = subparsers.add_parser("pull", help="pull readings from Verdigris, SFTP or local folders")
    kinds = pull.add_subparsers(dest="pull_kind", metavar="SOURCE", required=True)
    vg = kinds.add_parser("verdigris", parents=[common], help="pull from the Verdigris API")
    _verdigris_options(vg)
    shared_options(vg)
    vg.set_defaults(func=run_pull_verdigris)
    sf = kinds.add_parser("sftp", parents=[common], help="import new files from SFTP folders")
    _sftp_options(sf)
    shared_options(sf)
    sf.set_defaults(func=run_pull_sftp)
    from app.cli.pull.folder import register_folder

    register_folder(kinds, common)
    from app.cli.pull.jobs import register_jobs

    register_jobs(subparsers, common)


def _verdigris_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--client-id", help="Verdigris OAuth client id (secret: keyring or env)")
    p.add_argument("--circuits", metavar="IDS", help="comma-separated circuit ids")
    p.add_argument("--breakers", metavar="IDS", help="comma-separated breaker ids")
    p.add_argument("--interval", help="1m, 15m (default), 1h or 1d")
    p.add_argument("--timezone", metavar="ZONE",
                   help="building's IANA zone for 1d (default: from Verdigris)")  # fmt: skip
    p.add_argument("--kinds", metavar="LIST", help="energy,power (default both)")
    p.add_argument("--since", metavar="ISO", help="pull from this time (ignores bookmarks)")
    p.add_argument("--until", metavar="ISO", help="pull up to this time (default: now)")
    p.add_argument("--auth-url", metavar="URL", help="token endpoint")
    p.add_argument("--api-url", metavar="URL", help="API base URL")
    p.add_argument("--bucket-label", choices=("start", "end"),
                   help="what Verdigris timestamps mark (default start)")  # fmt: skip
    p.add_argument("--backfill-days", type=int, help="a first pull goes this far back (7)")
    p.add_argument("--list", action="store_true", help="list buildings/panels/breakers/circuits")


def _sftp_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--user")
    p.add_argument("--key", metavar="FILE", help="private key (else the password: keyring/env)")
    p.add_argument("--folder", action="append", metavar="PATH", help="folder to poll (repeat)")
    p.add_argument("--host-key-fingerprint", metavar="FP", help="accept this host key (SHA256:…)")
    p.add_argument("--archive", metavar="DIR", help="move imported files here on the server")
    p.add_argument("--connector", help="connector id for the files (default auto)")
    p.add_argument("--pattern", help="file name pattern (default *)")
    p.add_argument("--min-age", type=int, metavar="S",
                   help="leave files changed in the last S seconds for the next poll")  # fmt: skip


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
    if not name:
        return {}
    try:
        job = JobStore(paths.data_dir / "jobs.sqlite3").get(name)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    if job.kind != kind:
        raise UsageError(f"job {name!r} is a {job.kind} job, not {kind}")
    return dict(job.config)


def verdigris_config(args: argparse.Namespace, paths: AppPaths) -> VerdigrisConfig:
    """The saved job's configuration overridden by the flags given."""
    data = saved_config(paths, args.job, "verdigris")
    given = {
        "client_id": args.client_id, "circuits": _ids(args.circuits),
        "breakers": _ids(args.breakers), "interval": args.interval, "kinds": _ids(args.kinds),
        "auth_url": args.auth_url, "api_url": args.api_url, "bucket_label": args.bucket_label,
        "backfill_days": args.backfill_days, "timezone": args.timezone,
    }  # fmt: skip
    data.update({k: v for k, v in given.items() if v is not None})
    config = VerdigrisConfig.from_dict(data)
    if not args.list:
        try:
            config.validate()
        except SourceError as exc:
            raise UsageError(str(exc)) from None
    return config


def sftp_config(args: argparse.Namespace, paths: AppPaths) -> SftpConfig:
    """The saved job's configuration overridden by the flags given."""
    data = saved_config(paths, args.job, "sftp")
    given = {"host": args.host, "port": args.port, "user": args.user, "key_file": args.key,
             "host_key_fingerprint": args.host_key_fingerprint}  # fmt: skip
    data.update({k: v for k, v in given.items() if v is not None})
    if args.folder:
        data["folders"] = [
            {"path": f, "connector": args.connector or "auto", "archive": args.archive or "",
             "pattern": args.pattern or "*", "min_age_s": args.min_age or 0,
             "options": {"tz": args.tz} if args.tz else {}}
            for f in args.folder
        ]  # fmt: skip
    missing = [flag for flag, key in (("--host", "host"), ("--user", "user")) if not data.get(key)]
    if missing or not data.get("folders"):
        raise UsageError(f"pull sftp needs {', '.join([*missing, '--folder'])} (or --job NAME)")
    return SftpConfig.from_dict(data)


def save_job(args: argparse.Namespace, paths: AppPaths, kind: str, config: dict[str, Any]) -> None:
    """Save `--save-job NAME` (replacing a job of the same kind, never one of another)."""
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
    return Destination(args.ecap_url, args.api, args.time_label, args.mapping, args.overwrite)


def run_pull_verdigris(args: argparse.Namespace) -> int:
    """`meterbridge pull verdigris`."""
    paths = resolve_paths(args.home).ensure()
    settings = load_settings(paths.settings_file)
    config = verdigris_config(args, paths)
    since, until = parse_time(args.since, "--since"), parse_time(args.until, "--until")
    if since and until and since >= until:
        raise UsageError(f"--since {args.since} is not before --until {args.until}")
    started: list[Submitter] = []
    try:
        if args.save_secret:
            _save_secret(secret_name(config.client_id), f"client secret of {config.client_id}")
        if args.list:
            return _list_channels(config, paths)
        save_job(args, paths, "verdigris", config.to_dict())
        dest = destination(args)
        with (
            open_submitter(
                paths,
                settings,
                dest,
                "meterbridge pull",
                print,
                source=journal_source(args, "verdigris"),
            ) as sub,  # fmt: skip
            progress_bar(sub),
        ):
            started.append(sub)
            report = run_verdigris(config, paths, sub, since=since, until=until)
    except PullErrors as exc:
        return failed(exc, started, args)
    print(f"{report.requests} Verdigris requests, {report.readings} readings")
    return exit_code(sub, args)


def _list_channels(config: VerdigrisConfig, paths: AppPaths) -> int:
    auth = build_auth(config.client_id, paths.data_dir, auth_url=config.auth_url,
                      audience=config.audience, api_url=config.api_url)  # fmt: skip
    for building in building_tree(VerdigrisApi(config.api_url, auth).buildings()):
        for depth, node in building.walk():
            zone = f" ({node.timezone})" if node.timezone else ""
            print(f"{'  ' * depth}{node.kind} {node.id}: {node.name}{zone}")
    return EXIT_OK


def run_pull_sftp(args: argparse.Namespace) -> int:
    """`meterbridge pull sftp`."""
    paths = resolve_paths(args.home).ensure()
    settings = load_settings(paths.settings_file)
    config = sftp_config(args, paths)
    if args.save_secret:
        what = "key passphrase" if config.key_file else "password"
        _save_secret(password_name(config.user, config.host), f"{what} of {config.server}")
    save_job(args, paths, "sftp", config.to_dict())
    return run_intake(args, paths, settings, "sftp", lambda sub: run_sftp(config, paths, sub))


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
    code = print_result(sub.result, verbose=args.verbose)
    delivery = sub.delivery
    if delivery is None or delivery.busy or delivery.stopped is None:
        return code
    return max(code, EXIT_ERROR if delivery.auth_failed else EXIT_PARTIAL)


def failed(exc: Exception, started: list[Submitter], args: argparse.Namespace) -> int:
    """Say what stopped the pull, and what had been done before it stopped."""
    print(f"meterbridge: error: {exc}", file=sys.stderr)
    if started and started[0].result.read:
        print_result(started[0].result, verbose=args.verbose)
    return EXIT_ERROR


@contextmanager
def progress_bar(sub: Any, label: str = "pulled") -> Iterator[None]:
    """A bar of readings pulled on a terminal (stderr); nothing in scripts and logs."""
    bar = ProgressBar.for_terminal()
    if bar is not None:
        sub.progress = lambda r: bar.update(Progress(label, 0, 1, r.read, r.sent + r.written))
    try:
        yield
    finally:
        if bar is not None:
            read = sub.result.read
            bar.update(Progress(label, 1, 1, read, read))


def _save_secret(name: str, what: str) -> None:
    """Ask for a secret (no echo on a terminal; a line of stdin otherwise) and keep it."""
    tty = sys.stdin.isatty()
    value = getpass.getpass(f"{what}: ") if tty else sys.stdin.readline().strip()
    if not value:
        raise UsageError(f"no {what} given; nothing saved")
    try:
        SecretStore().set(name, value)
    except NoKeyringError as exc:
        raise UsageError(str(exc)) from None
    print(f"saved the {what} in the OS keyring")


def scheduler_for(paths: AppPaths, dest: Destination | None = None) -> Scheduler:
    """The scheduler over this home's saved jobs (for `serve` and `jobs run`)."""
    return core_scheduler_for(paths, load_settings(paths.settings_file), dest)
