"""The desktop part of `meterbridge --self-test`, and the start-up probe of the release.

The self-test builds the real main window (as `meterbridge gui` does, without the
single-instance guard), shows it, makes the tray icon, and draws a bundled sample
in the preview's chart, checking that the line's colour reached the pixels: proof
that Qt's platform plugin, the widgets, pyqtgraph and the image plugins made it
into a frozen bundle.

`exit_when_shown()` serves `meterbridge gui --exit-when-shown` (a hidden option
the release script uses to time the real start): the app quits as soon as the
main window has painted once, after printing how long that took.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import PySide6
from PySide6.QtCore import QEvent, QObject, QTimer, qVersion
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from app.ui.application import Running, app_icon, build, ensure_qapp
from app.ui.tray import Tray

LINE_RGB = (38, 139, 210)  # the chart's line colour (app.ui.preview.chart)
_alive: dict[str, Any] = {}  # what the checks made, closed together by close_all()


def qt_version() -> str:
    """PySide6's version and the Qt it runs."""
    return f"{PySide6.__version__} (Qt {qVersion()})"


def main_window(home: str) -> str:
    """Build the main window in `home` and show it; describe it."""
    running = build(home, single=False)
    assert running is not None
    _alive["running"] = running
    running.window.show()
    running.app.processEvents()
    if not running.window.isVisible():
        raise RuntimeError("the main window did not show")
    platform = QApplication.platformName()
    return f"'{running.window.windowTitle()}' shown ({platform})"


def tray_icon() -> str:
    """Make the tray icon of the main window (the one `main_window` built)."""
    running: Running = _alive["running"]
    tray = running.tray or Tray(running.window, app_icon())
    _alive["tray"] = tray
    if tray.icon().isNull():
        raise RuntimeError("the tray icon has no image (icon or image plugin missing)")
    entries = [a.text().replace("&", "") for a in tray.menu.actions() if a.text()]
    shown = "shown" if QSystemTrayIcon.isSystemTrayAvailable() else "made (no tray on this desktop)"
    return f"icon {shown}, menu: {', '.join(entries)}"


def chart(sample: Path, mapped: pd.DataFrame) -> str:
    """Draw `mapped` in the preview's chart and find the line's colour in the picture."""
    from app.ui.preview.chart import ChannelChart  # not imported by exit_when_shown's timing

    ensure_qapp()
    widget = ChannelChart()
    _alive["chart"] = widget
    order = mapped.sort_values(["source_id", "quantity", "time"], kind="stable")
    widget.set_data(order.reset_index(drop=True), np.zeros(len(order), dtype=np.int64))
    widget.resize(800, 400)
    widget.show()
    QApplication.processEvents()
    image = widget.plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    drawn = _pixels_of(image, QColor(*LINE_RGB))
    if drawn == 0:
        raise RuntimeError(f"the chart of {sample.name} drew no line")
    return f"{sample.name}: {widget.channel_count()} channel(s), line drawn ({drawn} pixels)"


def _pixels_of(image: QImage, colour: QColor) -> int:
    """How many pixels of `image` are close to `colour` (antialiasing blends the edges)."""
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), dtype=np.uint8, count=image.sizeInBytes())
    rows = data.reshape(height, image.bytesPerLine())[:, : width * 4].reshape(height, width, 4)
    blue, green, red = (rows[..., i].astype(np.int16) for i in range(3))  # BGRA in memory
    near = (
        (abs(red - colour.red()) < 40)
        & (abs(green - colour.green()) < 40)
        & (abs(blue - colour.blue()) < 40)
    )
    return int(near.sum())


def close_all() -> None:
    """Close what the checks made (the main window quits, its services stop)."""
    chart_widget = _alive.pop("chart", None)
    if chart_widget is not None:
        chart_widget.close()
    tray = _alive.pop("tray", None)
    if tray is not None:
        tray.hide()
    running: Running | None = _alive.pop("running", None)
    if running is not None:
        running.window.quitting = True
        running.window.close()
    QApplication.processEvents()


class _FirstPaint(QObject):
    """Quits the app at the first paint of the main window, printing the time taken."""

    def __init__(self, window_class: type, started: float) -> None:
        super().__init__()
        self.window_class = window_class
        self.started = started
        self.done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Watch every paint until one is of the main window (or a widget inside it)."""
        if self.done or event.type() != QEvent.Type.Paint or not isinstance(watched, QWidget):
            return False
        if isinstance(watched.window(), self.window_class):
            self.done = True
            seconds = time.monotonic() - self.started
            print(f"main window shown after {seconds:.3f} s", flush=True)
            QTimer.singleShot(0, lambda: QApplication.exit(0))
        return False


def exit_when_shown() -> None:
    """Make the coming `run_app` quit once the main window has painted (a timing probe).

    The time is counted from the process start (its creation time where known).
    """
    from app.ui.window.main_window import MainWindow

    app = ensure_qapp()
    probe = _FirstPaint(MainWindow, time.monotonic() - _process_age())
    app.installEventFilter(probe)
    _alive["probe"] = probe


def _process_age() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere 0)."""
    try:
        ticks = int(Path(f"/proc/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
