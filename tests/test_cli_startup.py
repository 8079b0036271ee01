"""CLI start-up: a command imports only its own module, and the command table stays true."""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

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


# What each light command may not load (each costs tens to hundreds of milliseconds and MB).
HEAVY = ("pandas", "pyarrow", "numpy", "PySide6", "pyqtgraph", "requests", "paramiko", "aiohttp")
LIGHT_COMMANDS = (
    ["--help"],
    ["status"],
    ["status", "--receipts", "5"],
    ["device", "list"],
    ["jobs", "list"],
    ["pull", "--help"],
)


def heavy_modules_loaded(argv: list[str], home: Path) -> list[str]:
    """Run `meterbridge ARGV` in a child interpreter; the heavy packages it imported."""
    code = (
        "import sys\n"
        "from app.cli import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"print('LOADED', [m for m in {HEAVY!r} if m in sys.modules], code)\n"
    )
    env = {**os.environ, "METERBRIDGE_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    last = [line for line in done.stdout.splitlines() if line.startswith("LOADED")]
    assert last, f"meterbridge {' '.join(argv)} did not finish: {done.stderr[-2000:]}"
    loaded, exit_code = last[-1].removeprefix("LOADED ").rsplit(" ", 1)
    assert exit_code in ("0", "None"), f"meterbridge {' '.join(argv)} failed: {done.stderr}"
    return list(ast.literal_eval(loaded))


@pytest.mark.parametrize("argv", LIGHT_COMMANDS, ids=" ".join)
def test_light_commands_import_no_data_gui_or_network_stack(
    argv: list[str], tmp_path: Path
) -> None:
    assert heavy_modules_loaded(argv, tmp_path) == []


def test_status_lists_what_the_journal_holds_without_pandas(tmp_path: Path) -> None:
    from app.core.journal.store import Journal
    from connectors.base import make_readings

    journal = Journal(tmp_path / "journal.sqlite3")
    readings = make_readings(
        source_id=["m1", "m1"],
        time=pd.to_datetime(["2026-01-05T00:30Z", "2026-01-05T01:00Z"], utc=True),
        value=[1.0, 2.0],
    )
    journal.accept(readings, source="meters")
    journal.close()
    assert heavy_modules_loaded(["status"], tmp_path) == []
    shown = subprocess.run(
        [sys.executable, "-m", "app", "status", "--home", str(tmp_path)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    assert "meters" in shown and "2026-01-05T00:30:00+00:00" in shown


def test_convert_of_a_small_file_loads_no_gui_or_network_stack(tmp_path: Path) -> None:
    sample = Path(__file__).parent / "data" / "hh" / "british-gas.csv"
    argv = ["convert", str(sample), "-o", str(tmp_path / "out")]
    loaded = heavy_modules_loaded(argv, tmp_path)
    assert set(loaded) <= {"pandas", "pyarrow", "numpy"}  # the readers' column engine only
    assert list((tmp_path / "out").glob("*.csv")), "convert wrote no import file"
