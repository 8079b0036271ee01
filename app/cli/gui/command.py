"""`meterbridge gui`: open the desktop app."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add the `gui` command."""
    parser = subparsers.add_parser("gui", parents=[common], help="open the desktop app (default)")
    parser.add_argument("--minimized", action="store_true", help="start in the tray")
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="meter files to preview at once (Open with…)"
    )
    # The release script times the real start with it (app.ui.self_check); not for users.
    parser.add_argument("--exit-when-shown", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the Qt application (imported here so the CLI never needs Qt)."""
    from app.core.winmutex import hold_app_mutex
    from app.ui.application import run_app

    _mutex = hold_app_mutex()  # held while the app runs; the installer checks it
    from app.cli.gui.services import GuiServices

    if getattr(args, "exit_when_shown", False):
        from app.ui.self_check import exit_when_shown

        exit_when_shown()
    minimized = bool(getattr(args, "minimized", False))
    files = [str(Path(f).resolve()) for f in getattr(args, "files", []) or []]
    return run_app(home=args.home, minimized=minimized, services_factory=GuiServices, files=files)
