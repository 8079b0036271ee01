"""The helper modules of build/ (plain scripts, not a package), imported by path for tests."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

BUILD = Path(__file__).resolve().parents[1] / "build"


def build_module(name: str) -> ModuleType:
    """The module `build/<name>.py`."""
    sys.path.insert(0, str(BUILD))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BUILD))
