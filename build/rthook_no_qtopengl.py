"""Frozen app only (a PyInstaller runtime hook): a stand-in for PySide6.QtOpenGL.

The bundle leaves out the QtOpenGL binding (8.5 MiB on Linux; build/bundle_trim.py),
because meterbridge draws nothing with OpenGL. pyqtgraph 0.14 imports it all the same
when the chart's modules load (PlotCurveItem, PColorMeshItem:
`QtOpenGL = importlib.import_module("PySide6.QtOpenGL")`) and touches it only in its
OpenGL paint path, taken only with pyqtgraph's `useOpenGL` option, which meterbridge
never sets. This finder comes last in `sys.meta_path`, so a real QtOpenGL, if one is
ever bundled again, wins; the stand-in has no attributes, and any use of one raises
an error naming what is missing. The frozen self-test draws the preview chart.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence

MODULE = "PySide6.QtOpenGL"


def _missing(name: str) -> object:
    raise AttributeError(f"{MODULE}.{name}: Qt's OpenGL module is not in this bundle")


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds MODULE only when nothing before it in sys.meta_path did."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for MODULE, None for every other name."""
        if fullname != MODULE:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        """An empty module whose every attribute is missing."""
        module = types.ModuleType(spec.name, "Stand-in: Qt's OpenGL module is not bundled.")
        module.__getattr__ = _missing  # type: ignore[method-assign]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run."""


sys.meta_path.append(_StandInFinder())
