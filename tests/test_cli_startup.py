"""CLI start-up: a command imports only its own module, and the command table stays true."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from app.cli import COMMAND_MODULES, COMMAND_OF, common_parser


def registered_words(module: str) -> set[str]:
    """The command words a module registers."""
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(dest="command")
    importlib.import_module(module).register(subparsers, common_parser())
    return set(subparsers.choices)


def test_every_command_word_names_the_module_that_registers_it() -> None:
    found = {word: module for module in COMMAND_MODULES for word in registered_words(module)}
    assert found == COMMAND_OF


def test_convert_does_not_load_the_journal_delivery_or_sftp() -> None:
    code = (
        "import sys, app.cli\n"
        "app.cli.build_parser(['convert', 'x.csv'])\n"
        "heavy = ['app.core.journal.store', 'app.core.delivery.engine',"
        " 'paramiko', 'requests', 'pandas']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
