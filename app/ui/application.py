"""Build the Qt application and its object graph, and run it."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from app.core.paths import resolve_paths
from app.ui.main_window import MainWindow


def run_app(home: str | None = None) -> int:
    """Run the desktop app until it quits; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("meterbridge")
    paths = resolve_paths(home).ensure()
    window = MainWindow(paths)
    window.show()
    return int(app.exec())
