"""The log viewer: the tail of the rotating log file, filterable by level."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

LOG_NAME = "meterbridge.log"
TAIL_BYTES = 512 * 1024
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def setup_logging(log_dir: Path, level: int = logging.INFO) -> Path:
    """Log to a rotating file in `log_dir` (5 files of 2 MB); returns the file's path."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "meterbridge", False):
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.meterbridge = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    return path


def read_tail(path: Path, size: int = TAIL_BYTES) -> str:
    """The last `size` bytes of a text file, from a line start (empty if missing)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            end = handle.tell()
            handle.seek(max(0, end - size))
            data = handle.read()
    except OSError:
        return ""
    if end > size:
        data = data.split(b"\n", 1)[-1]
    return data.decode("utf-8", errors="replace")


def filter_lines(text: str, minimum: str, needle: str) -> str:
    """Lines at `minimum` level or above that contain `needle` (case-insensitive)."""
    allowed = set(LEVELS[LEVELS.index(minimum) :])
    needle = needle.lower()
    kept = []
    for line in text.splitlines():
        parts = line.split(maxsplit=3)
        level = parts[2] if len(parts) > 2 else ""
        if level not in LEVELS:  # a traceback's lines: they stay in the log file, not here
            continue
        if level not in allowed:
            continue
        if needle and needle not in line.lower():
            continue
        kept.append(line)
    return "\n".join(kept)


class LogViewer(QWidget):
    """Shows the log file; refreshes every two seconds while visible."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Log")
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.level = QComboBox()
        self.level.addItems(LEVELS)
        self.level.setCurrentText("INFO")
        self.level.setAccessibleName("Minimum log level")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter…")
        self.search.setAccessibleName("Filter log lines")
        self.search.setClearButtonEnabled(True)
        folder = QPushButton("Open log &folder")
        folder.setAccessibleName("Open log folder")
        folder.clicked.connect(self._on_folder_clicked)
        self.location = QLabel(str(path))
        self.location.setAccessibleName("Log file")
        bar = QHBoxLayout()
        level_label = QLabel("&Level:")
        level_label.setBuddy(self.level)
        bar.addWidget(level_label)
        bar.addWidget(self.level)
        bar.addWidget(self.search, 1)
        bar.addWidget(folder)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.location)
        self.level.currentTextChanged.connect(lambda _t: self.refresh())
        self.search.textChanged.connect(lambda _t: self.refresh())
        self.timer = QTimer(self)
        self.timer.setInterval(2000)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.timer.start()
        self._shown = ""

    def refresh(self) -> None:
        """Reload the tail of the log file and keep the view at the bottom."""
        text = filter_lines(read_tail(self.path), self.level.currentText(), self.search.text())
        if text == self._shown:
            return
        self._shown = text
        self.text.setPlainText(text or "The log is empty.")
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_timer_timeout(self) -> None:
        if self.isVisible():
            self.refresh()

    def _on_folder_clicked(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path.parent)))
