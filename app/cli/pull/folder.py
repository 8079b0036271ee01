"""`meterbridge pull folder`: import new or changed files of local (or network) folders once.

pull folder --folder PATH [--folder ...] [--connector ID|auto] [--layout NAME]
            [--pattern GLOB] [--archive SUBFOLDER] [--min-age S] [connector options]
It runs the poll a ``folder`` job runs (`app.core.pulls.folder.poll_folder`,
the same file memory), once; ``--save-job NAME --every DUR`` saves the job the
desktop app saves for a local-folder source, ``--job NAME`` starts from one.
Delivery, summary and exit codes as `pull sftp` (`app.cli.pull.commands.run_intake`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli import UsageError
from app.cli.pull.common import run_intake, save_job, saved_config, shared_options
from app.cli.source_options import add_connector_options, connector_options

if TYPE_CHECKING:
    from app.core.paths import AppPaths
    from app.core.pulls.folder import FolderConfig


def register_folder(kinds: Any, common: argparse.ArgumentParser) -> None:
    """Add `pull folder` to the `pull` command's sources."""
    parser = kinds.add_parser(
        "folder", parents=[common], help="import new or changed files from local folders"
    )
    parser.add_argument(
        "--folder",
        action="append",
        metavar="PATH",
        help="folder the files arrive in (repeat for more)",
    )
    parser.add_argument(
        "--connector",
        metavar="ID|auto",
        help="connector id for the files (default auto: recognised per file)",
    )
    parser.add_argument("--pattern", metavar="GLOB", help="file name pattern (default *)")
    parser.add_argument(
        "--archive",
        metavar="SUBFOLDER",
        help="move imported files into this subfolder (default: leave them)",
    )
    parser.add_argument(
        "--min-age",
        type=float,
        metavar="S",
        help="leave files changed in the last S seconds for the next run",
    )
    add_connector_options(parser.add_argument_group("connector options (saved with the job)"))
    shared_options(parser, secret=False)
    parser.set_defaults(func=run_pull_folder)


def folder_config(args: argparse.Namespace, paths: AppPaths) -> FolderConfig:
    """The saved job's configuration overridden by the flags given, checked.

    Raises:
        UsageError: no folder, a folder that is missing or cannot be listed, a
            bad archive name, an unknown connector or layout.
    """
    from app.core.pulls.folder import FolderConfig, FolderError, check_folders

    data = saved_config(paths, args.job, "folder")
    if args.folder:  # absolute: a job runs later from another working folder
        folders = [str(Path(f).expanduser().resolve()) for f in args.folder]
        data["path"], data["more_paths"] = folders[0], folders[1:]
    given = {"connector": args.connector, "pattern": args.pattern, "archive": args.archive,
             "min_age_s": args.min_age}  # fmt: skip
    data.update({k: v for k, v in given.items() if v is not None})
    data["options"] = {**data.get("options", {}), **connector_options(args)}
    if not data.get("path"):
        raise UsageError("pull folder needs --folder PATH (or --job NAME)")
    config = FolderConfig.from_dict(data)
    _check_reading(config)
    try:
        check_folders(config)
    except FolderError as exc:
        raise UsageError(f"{exc}; nothing was imported") from None
    return config


def _check_reading(config: FolderConfig) -> None:
    """An unknown connector or layout would make every file unreadable: say so first."""
    from app.core.connector_catalog import build_registry
    from connectors.tabular.layout import layout_by_name

    try:
        if config.connector != "auto":
            build_registry().get(config.connector)
        if config.options.get("layout"):
            layout_by_name(str(config.options["layout"]))
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None


def run_pull_folder(args: argparse.Namespace) -> int:
    """`meterbridge pull folder`."""
    from app.core.paths import resolve_paths
    from app.core.pulls.runner import run_folder
    from app.core.settings import load_settings

    paths = resolve_paths(args.home).ensure()
    settings = load_settings(paths.settings_file)
    config = folder_config(args, paths)
    save_job(args, paths, "folder", config.to_dict())
    return run_intake(args, paths, settings, "folder", lambda sub: run_folder(config, paths, sub))
