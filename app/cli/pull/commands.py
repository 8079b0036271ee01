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
import sys
from typing import TYPE_CHECKING, Any

from app.cli import EXIT_OK, UsageError
from app.cli.pull.common import (
    destination,
    exit_code,
    failed,
    journal_source,
    parse_time,
    progress_bar,
    run_intake,
    save_job,
    saved_config,
    shared_options,
)
from app.cli.pull.folder import register_folder
from app.cli.pull.jobs import register_jobs

if TYPE_CHECKING:
    from app.core.paths import AppPaths
    from app.core.pulls.sftp.poll import SftpConfig
    from app.core.pulls.submit import Submitter
    from app.core.pulls.verdigris_pull import VerdigrisConfig


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
    register_folder(kinds, common)
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


def verdigris_config(args: argparse.Namespace, paths: AppPaths) -> VerdigrisConfig:
    """The saved job's configuration overridden by the flags given."""
    from app.core.pulls.verdigris_pull import VerdigrisConfig
    from connectors.base import SourceError

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
    from app.core.pulls.sftp.poll import SftpConfig

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


def run_pull_verdigris(args: argparse.Namespace) -> int:
    """`meterbridge pull verdigris`."""
    from app.core.paths import resolve_paths
    from app.core.pulls.runner import PullErrors, open_submitter, run_verdigris
    from app.core.pulls.verdigris_auth import secret_name
    from app.core.settings import load_settings

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
    from app.core.pulls.verdigris_auth import build_auth
    from connectors.verdigris.api import VerdigrisApi
    from connectors.verdigris.listing import building_tree

    auth = build_auth(config.client_id, paths.data_dir, auth_url=config.auth_url,
                      audience=config.audience, api_url=config.api_url)  # fmt: skip
    for building in building_tree(VerdigrisApi(config.api_url, auth).buildings()):
        for depth, node in building.walk():
            zone = f" ({node.timezone})" if node.timezone else ""
            print(f"{'  ' * depth}{node.kind} {node.id}: {node.name}{zone}")
    return EXIT_OK


def run_pull_sftp(args: argparse.Namespace) -> int:
    """`meterbridge pull sftp`."""
    from app.core.paths import resolve_paths
    from app.core.pulls.runner import run_sftp
    from app.core.pulls.sftp.poll import password_name
    from app.core.settings import load_settings

    paths = resolve_paths(args.home).ensure()
    settings = load_settings(paths.settings_file)
    config = sftp_config(args, paths)
    if args.save_secret:
        what = "key passphrase" if config.key_file else "password"
        _save_secret(password_name(config.user, config.host), f"{what} of {config.server}")
    save_job(args, paths, "sftp", config.to_dict())
    return run_intake(args, paths, settings, "sftp", lambda sub: run_sftp(config, paths, sub))


def _save_secret(name: str, what: str) -> None:
    """Ask for a secret (no echo on a terminal; a line of stdin otherwise) and keep it."""
    from app.core.secrets import NoKeyringError, SecretStore

    tty = sys.stdin.isatty()
    value = getpass.getpass(f"{what}: ") if tty else sys.stdin.readline().strip()
    if not value:
        raise UsageError(f"no {what} given; nothing saved")
    try:
        SecretStore().set(name, value)
    except NoKeyringError as exc:
        raise UsageError(str(exc)) from None
    print(f"saved the {what} in the OS keyring")
