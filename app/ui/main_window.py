"""The main window."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from app import __version__
from app.core.paths import AppPaths


class MainWindow(QMainWindow):
    """meterbridge's main window (the GUI issue builds it out)."""

    def __init__(self, paths: AppPaths) -> None:
        super().__init__()
        self.paths = paths
        self.setWindowTitle(f"meterbridge {__version__}")
        label = QLabel("Drop meter files here.")
        label.setAccessibleName("Drop zone")
        self.setCentralWidget(label)
        self.resize(1000, 680)
