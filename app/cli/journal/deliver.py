"""What the journal commands share: EnergyCAP options, the last send's options, delivering.

`deliver`, `replay`, `held send`, `serve` and `device` all take the same connection options and
deliver the same way; they import this module, never one another. Registering the options
imports nothing heavy: the journal, delivery and HTTP modules load when a command delivers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import TYPE_CHECKING

from app.cli import UsageError
from app.cli.loading import energycap_client, mapping_of, time_label_of

if TYPE_CHECKING:
    from app.core.journal.store import Journal
    from app.core.settings import EnergyCapSettings, Settings

LIST_LIMIT = 50


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """The EnergyCAP options `send` also takes."""
    parser.add_argument("--api", choices=("readings", "esa", "import"), help="EnergyCAP API")
    parser.add_argument("--ecap-url", metavar="URL", help="EnergyCAP host (overrides the setting)")
    parser.add_argument(
        "--time-label", choices=("end", "start"), help="what EnergyCAP's reading time marks"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace values EnergyCAP already has"
    )


def connection_settings(args: argparse.Namespace, settings: Settings) -> EnergyCapSettings | None:
    """EnergyCAP's settings with the command line's overrides; None when no URL is known."""
    url = (args.ecap_url or settings.energycap.url or "").strip()
    if not url:
        return None
    ecap = dataclasses.replace(
        settings.energycap,
        url=url,
        api=args.api or settings.energycap.api,
        time_label=time_label_of(args, settings),
    )
    if ecap.api not in ("readings", "esa", "import"):
        raise UsageError(f"API must be readings, esa or import; the setting says {ecap.api!r}")
    return ecap


def resume_options(args: argparse.Namespace, journal: Journal) -> None:
    """Fill options not given here from the last `send` (the run a crash interrupted)."""
    from app.cli.journal.send import LAST_SEND

    text = journal.get_meta(LAST_SEND)
    if not text:
        return
    last = json.loads(text)
    names = (("ecap_url", "url", "--ecap-url"), ("api", "api", "--api"))
    names += (("time_label", "time_label", "--time-label"), ("mapping", "mapping", "--mapping"))
    used = []
    for attribute, key, flag in names:
        if getattr(args, attribute, None) is None and last.get(key):
            setattr(args, attribute, last[key])
            used.append(f"{flag} {last[key]}")
    if used:
        print(f"as the last send: {', '.join(used)}")


def deliver_journal(args: argparse.Namespace, settings: Settings, journal: Journal) -> int:
    """Send what the journal holds pending, print the rejections; returns the exit code."""
    from app.cli.journal.send import deliver_and_tell, exit_code, rejections_of

    resume_options(args, journal)
    ecap = connection_settings(args, settings)
    if ecap is None:
        raise UsageError("no EnergyCAP URL: give --ecap-url or set it in the settings")
    client = energycap_client(ecap.url, ecap)
    report = deliver_and_tell(args, settings, client, ecap, mapping_of(args, settings), journal)
    rejections = rejections_of(journal, report)
    for line in [r.describe() for r in rejections][: None if args.verbose else LIST_LIMIT]:
        print(line)
    if len(rejections) > LIST_LIMIT and not args.verbose:
        print(f"... and {len(rejections) - LIST_LIMIT} more (use -v to list them all)")
    return exit_code(report)
