"""The project's own quality gates run as tests: lint, format, types, layering."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("mypy",),
        ("lint-imports",),
    ],
    ids=["ruff-lint", "ruff-format", "mypy-strict", "import-contracts"],
)
def test_quality_gate(command: tuple[str, ...]) -> None:
    """Each gate passes on the whole tree (mypy strict on app/core and connectors)."""
    result = run_tool(str(BIN / command[0]), *command[1:])
    assert result.returncode == 0, result.stdout + result.stderr
