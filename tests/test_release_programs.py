"""The release's two programs on Linux and macOS: one file under two names."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


def make_release() -> ModuleType:
    """build/make_release.py, imported by path (build/ is not a package)."""
    sys.path.insert(0, str(REPO / "build"))
    try:
        return importlib.import_module("make_release")
    finally:
        sys.path.remove(str(REPO / "build"))


@pytest.mark.skipif(os.name == "nt", reason="on Windows the console and windowed .exe differ")
def test_identical_programs_become_one_file_and_both_names_still_run(tmp_path: Path) -> None:
    program = b"#!/bin/sh\necho $0\n"
    for name in ("meterbridge", "meterbridge-cli"):
        (tmp_path / name).write_bytes(program)
        (tmp_path / name).chmod(0o755)
    make_release().share_program(tmp_path)
    assert (tmp_path / "meterbridge").samefile(tmp_path / "meterbridge-cli")
    assert os.access(tmp_path / "meterbridge-cli", os.X_OK)
    for name in ("meterbridge", "meterbridge-cli"):
        ran = subprocess.run([str(tmp_path / name)], capture_output=True, text=True, check=True)
        assert ran.stdout.strip().endswith(name)


def test_programs_that_differ_both_stay(tmp_path: Path) -> None:
    (tmp_path / "meterbridge").write_bytes(b"windowed")
    (tmp_path / "meterbridge-cli").write_bytes(b"console")
    make_release().share_program(tmp_path)
    assert not (tmp_path / "meterbridge").samefile(tmp_path / "meterbridge-cli")
    assert (tmp_path / "meterbridge-cli").read_bytes() == b"console"
