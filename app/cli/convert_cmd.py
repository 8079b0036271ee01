"""`meterbridge convert` and `meterbridge send`: read sources, map, write or deliver.

convert SOURCE... [--connector ID|auto] [-o DIR]
    EnergyCAP import files (CSV + profile JSON) into DIR (default: the outbox).
send SOURCE... [--connector ID|auto] [--api readings|esa|import] [--ecap-url URL]
    Deliver to EnergyCAP; with no URL anywhere, write to the outbox instead.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.cli import UsageError
from app.cli.loading import energycap_client, load_home, mapping_of, time_label_of
from app.cli.source_options import add_connector_options, connector_options

if TYPE_CHECKING:  # imported where used: `meterbridge --help` and `convert` start fast
    from app.core.paths import AppPaths
    from app.core.pipeline import RunPlan
    from app.core.report import SourceReport
    from app.core.settings import Settings

API_KEY_NAME = "energycap-api-key"  # = app.core.energycap.connection.API_KEY_NAME (kept light)


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the `convert` and `send` commands."""
    conv = subparsers.add_parser(
        "convert", parents=[common], help="write EnergyCAP import files (CSV + profile)"
    )
    _add_source_options(conv)
    conv.add_argument(
        "-o", "--output", metavar="DIR", help="folder for the files (default: outbox)"
    )
    conv.set_defaults(func=run_convert)
    snd = subparsers.add_parser("send", parents=[common], help="convert and deliver to EnergyCAP")
    _add_source_options(snd)
    snd.add_argument("--api", choices=("readings", "esa", "import"), help="EnergyCAP API to use")
    snd.add_argument("--ecap-url", metavar="URL", help="EnergyCAP host (overrides the setting)")
    snd.add_argument("--overwrite", action="store_true", help="replace values EnergyCAP has")
    snd.set_defaults(func=run_send)


def _add_source_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="files to read")
    parser.add_argument(
        "--connector", default="auto", metavar="ID|auto",
        help="connector id (default auto: the best sniffer for each file)",
    )  # fmt: skip
    add_connector_options(parser.add_argument_group("connector options"))
    parser.add_argument(
        "--time-label", choices=("end", "start"),
        help="what EnergyCAP's reading time marks (default: the setting, end)",
    )  # fmt: skip


def _plan(args: argparse.Namespace, settings: Settings) -> RunPlan:
    from app.cli.run_output import ProgressBar
    from app.core.connector_catalog import build_registry
    from app.core.pipeline import RunPlan
    from connectors.base import Source

    bar = ProgressBar.for_terminal()
    return RunPlan(
        sources=[Source.from_path(p) for p in args.sources],
        registry=build_registry(),
        table=mapping_of(args, settings),
        connector_id=args.connector,
        options=connector_options(args),
        progress=bar.update if bar else None,
        announce=lambda r: print(r.describe()),
    )


def _layout_line(report: SourceReport) -> None:
    """`send` announces through the journal (connector only): the layout on its own line."""
    if report.layout:
        print(f"{report.name}: {report.layout_text()}")


def _write_files(args: argparse.Namespace, settings: Settings, folder: Path) -> int:
    from app.cli.run_output import print_result
    from app.core.energycap.exporter import ExportError
    from app.core.pipeline import convert

    plan = _plan(args, settings)
    try:
        result = convert(plan, folder, label=time_label_of(args, settings))
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    return print_result(result, verbose=args.verbose)


def run_convert(args: argparse.Namespace) -> int:
    """`meterbridge convert`: import files into -o DIR or the outbox."""
    paths, settings = load_home(args)
    folder = Path(args.output) if args.output else _outbox(paths, settings)
    return _write_files(args, settings, folder)


def _outbox(paths: AppPaths, settings: Settings) -> Path:
    return Path(settings.outbox_dir).expanduser() if settings.outbox_dir else paths.outbox_dir


def run_send(args: argparse.Namespace) -> int:
    """`meterbridge send`: deliver to EnergyCAP, or to the outbox when no URL is set."""
    paths, settings = load_home(args)
    url = (args.ecap_url or settings.energycap.url or "").strip()
    if not url:
        folder = _outbox(paths, settings)
        print(f"No EnergyCAP URL is set: writing EnergyCAP import files to the outbox {folder}")
        return _write_files(args, settings, folder)
    ecap = dataclasses.replace(
        settings.energycap, api=args.api or settings.energycap.api,
        time_label=time_label_of(args, settings),
    )  # fmt: skip
    if ecap.api not in ("readings", "esa", "import"):
        raise UsageError(f"API must be readings, esa or import; the setting says {ecap.api!r}")
    from app.cli.journal.send import send_through_journal

    client = energycap_client(url, ecap)
    plan = dataclasses.replace(_plan(args, settings), detail=_layout_line)
    return send_through_journal(args, settings, client, ecap, plan)
