"""The headless `meterbridge` command: the same core as the GUI.

Each sub-command lives in its own module under `app.cli` and exposes
``register(subparsers, common)``; `COMMAND_MODULES` lists them in help order.
`COMMAND_WORDS` says which command words each module registers (`COMMAND_OF`
looks a word's module up), so that running one command imports only its module
(start-up stays short: `convert` does not load the journal, delivery, SFTP ...);
`--help` and unknown words import them all.

Exit codes: 0 everything delivered or written; 1 some readings held back or
rejected (each listed with its reason); 2 usage, configuration,
authentication or whole-file errors.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from app import __version__
from app.core.paths import private_umask

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_ERROR = 2

# command module -> the command words it registers, in help order (a word missing here
# still works, slower: every module is imported to find it)
COMMAND_WORDS: dict[str, tuple[str, ...]] = {
    "app.cli.gui.command": ("gui",),
    "app.cli.convert_cmd": ("convert", "send"),
    "app.cli.journal.commands": ("deliver", "status", "replay", "held"),
    "app.cli.pull.commands": ("pull", "jobs"),
    "app.cli.device_cmd": ("device", "serve"),
}
COMMAND_MODULES: tuple[str, ...] = tuple(COMMAND_WORDS)
COMMAND_OF: dict[str, str] = {
    word: module for module, words in COMMAND_WORDS.items() for word in words
}


class UsageError(Exception):
    """A usage or configuration error: printed plainly, exit code 2."""


def common_parser() -> argparse.ArgumentParser:
    """Options every sub-command takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home", help="folder for settings, journal, outbox (env METERBRIDGE_HOME)"
    )
    common.add_argument("--mapping", metavar="FILE", help="mapping CSV (source_id → channel)")
    common.add_argument("--tz", metavar="ZONE", help="IANA zone of naive source times")
    common.add_argument("-v", "--verbose", action="count", default=0, help="more output")
    return common


def _modules_for(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The command modules to import for `argv` (all of them when unsure, e.g. `--help`)."""
    words = [a for a in argv or () if not a.startswith("-")]
    if argv is None or not words:
        return COMMAND_MODULES
    before = set(argv[: list(argv).index(words[0])])
    module = COMMAND_OF.get(words[0])
    if module is None or not before <= {"--self-test", "-v", "--verbose"}:
        return COMMAND_MODULES
    return (module,)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command, or only the one `argv` runs.

    Args:
        argv: the command line (without the program name); None builds the full parser.
    """
    parser = argparse.ArgumentParser(
        prog="meterbridge",
        description="Move meter interval data into EnergyCAP.",
    )
    parser.add_argument("--version", action="version", version=f"meterbridge {__version__}")
    parser.add_argument("--self-test", action="store_true", help="check the installation and exit")
    common = common_parser()
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _modules_for(argv):
        importlib.import_module(name).register(subparsers, common)
    return parser


def setup_logging(verbose: int) -> None:
    """Log warnings (or more with -v) to stderr."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    private_umask()  # settings, journal, captures, logs, outbox: born user-only
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    setup_logging(getattr(args, "verbose", 0))
    if args.self_test:
        from app.selftest import run_self_test

        return run_self_test()
    if args.command is None:
        args = build_parser(["gui"]).parse_args(["gui", *args_list])
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not as a traceback at exit
        return code
    except UsageError as exc:
        print(f"meterbridge: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("meterbridge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`meterbridge status | head`): stop quietly, as Unix tools do.
        # https://docs.python.org/3/library/signal.html#note-on-sigpipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PARTIAL
