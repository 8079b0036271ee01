"""Whole-screen pictures of the desktop app at laptop and desktop sizes, light and dark.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_screens.py [--out docs/screenshots]

Each picture is a screen of the given size with a 40-pixel taskbar: the windows are
placed as the app places them on that screen (their own code decides the size) and
painted with a plain title bar, so what does not fit would show. The user guide's
pictures are the 1366×768 light set. The data is real (tools/screenshots.fill_home:
a journal delivered to the loopback EnergyCAP fake); the delivery pause shown on the
dashboard is the background services' own state object, set as a refused key sets it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools.screenshots import SAMPLE, fill_home, wait_for  # noqa: E402

TASKBAR, TITLE = 40, 28
VARIANTS = ((1366, 768, "light"), (1366, 768, "dark"), (1920, 1080, "light"), (1920, 1080, "dark"))
GUIDE_ONLY = ("connect", "mapping", "refused", "error-details")  # the 1366×768 light set only


class Services:
    """The background services as the window sees them, paused by a refused key."""

    def __init__(self) -> None:
        from app.cli.gui.delivery import DeliveryWatch

        self.watch = DeliveryWatch()
        self.watch.paused("EnergyCAP at app-eu.energycap.com refused the API key (HTTP 401): "
                          "the API key or the host is wrong", auth_failed=True)  # fmt: skip
        self.stats: dict[str, dict[str, Any]] = {}

    @property
    def delivery(self) -> Any:
        return self.watch.state

    def device_stats(self) -> dict[str, dict[str, Any]]:
        return self.stats

    def listening(self) -> bool:
        return True

    def pending_readings(self) -> int:
        return 0

    def wake(self) -> None:
        """Nothing to deliver here."""


class Screen:
    """Paints windows onto a screen-sized picture (desktop, taskbar, title bars)."""

    def __init__(self, app: Any, width: int, height: int, dark: bool) -> None:
        from PySide6.QtCore import QRect

        self.app, self.width, self.height, self.dark = app, width, height, dark
        self.available = QRect(0, 0, width, height - TASKBAR)

    def place(self, widget: Any, preferred: tuple[int, int]) -> None:
        """Where the app's own rule puts a window of `preferred` size on this screen."""
        from app.ui.preview.parts import fitted

        widget.setGeometry(fitted(self.available, preferred))

    def save(self, windows: list[Any], path: Path) -> None:
        """The screen with `windows` (bottom first) painted at their places."""
        from PySide6.QtCore import QRect, Qt
        from PySide6.QtGui import QColor, QImage, QPainter

        for _ in range(8):
            self.app.processEvents()
        image = QImage(self.width, self.height, QImage.Format.Format_RGB32)
        image.fill(QColor(34, 64, 96) if self.dark else QColor(70, 120, 170))
        painter = QPainter(image)
        painter.fillRect(0, self.height - TASKBAR, self.width, TASKBAR, QColor(24, 24, 28))
        for window in windows:
            frame = window.geometry()
            bar = QRect(frame.left(), frame.top() - TITLE, frame.width(), TITLE)
            painter.fillRect(bar, QColor(60, 60, 66) if self.dark else QColor(225, 228, 232))
            painter.setPen(QColor(235, 235, 235) if self.dark else QColor(20, 20, 20))
            text_area = bar.adjusted(10, 0, -10, 0)
            painter.drawText(text_area, int(Qt.AlignmentFlag.AlignVCenter), window.windowTitle())
            painter.drawPixmap(frame.topLeft(), window.grab())
        painter.end()
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(str(path))
        print(f"wrote {path}")


def context_for(home: Path, fill: bool) -> Any:
    """An app context on a throw-away home (filled with real deliveries, or empty)."""
    from app.core.paths import resolve_paths
    from app.ui.context import AppContext

    if fill:
        fill_home(home)
    context = AppContext.load(resolve_paths(home).ensure())
    if fill:
        context.settings.mapping_file = str(home / "mapping.csv")
        context.settings.energycap.url = "https://app-eu.energycap.com"
    return context


def main_window(screen: Screen, context: Any, services: Any = None) -> Any:
    """The main window as placed on the screen, its dashboard filled."""
    from app.ui.window.main_window import MainWindow

    window = MainWindow(context)
    if services is not None:
        window.services = services
        context.services = services
    window.show()
    screen.place(window, (1100, 700))
    shown: list[object] = []
    window.snapshot_shown.connect(shown.append)
    window.refresh()
    wait_for(screen.app, lambda: shown)
    return window


def preview_over(screen: Screen, window: Any) -> Any:
    """A real UK half-hourly file previewed, a spike's warning clicked."""
    preview = window.open_path(SAMPLE)
    screen.place(preview, (1180, 760))
    settled: list[bool] = []
    preview.settled.connect(lambda: settled.append(True))
    wait_for(screen.app, lambda: settled)
    spike = next(i for i in range(preview.warnings.count())
                 if preview.warnings.item(i).text().startswith("Unusual jump"))  # fmt: skip
    preview.warnings.itemClicked.emit(preview.warnings.item(spike))
    return preview


def device_wizard(screen: Screen, window: Any, services: Services) -> Any:
    """The EpiSensor wizard's connection page after its first push arrived."""
    from datetime import UTC, datetime

    from app.ui.wizards.source_wizard import SOURCE

    wizard = window.actions_.open_wizard("episensor")
    wizard.page(SOURCE).name.setText("head-office")
    services.stats["head-office"] = {"last_seen": datetime.now(UTC).isoformat(timespec="seconds"),
                                     "readings_received": 48}  # fmt: skip
    wizard.next()
    wizard.resize(700, 600)
    wizard.move(screen.available.center() - wizard.rect().center())
    return wizard


def connect(screen: Screen, window: Any, path: Path) -> None:
    """Getting started → Set up…: a host and key, tested against the loopback EnergyCAP."""
    from app.ui.settings.dialog import CUSTOM
    from tests.fakes.energycap import FakeEnergyCap

    with FakeEnergyCap(api_key="demo") as fake:
        settings = window.actions_.open_settings()
        settings.move(screen.available.center() - settings.rect().center())
        settings.host.setCurrentText(CUSTOM)
        settings.custom_url.setText(fake.url)
        settings.key.setText("demo")
        settings.test.click()
        wait_for(screen.app, lambda: settings.result.text() not in ("", "Testing…"))
        screen.save([window, settings], path)
        settings.close()


def mapping(screen: Screen, window: Any, path: Path) -> None:
    """Dead letters → Fix mapping…: the refused meter given a channel from EnergyCAP's list."""
    from tests.fakes.energycap import FakeEnergyCap
    from tests.fakes.energycap_model import FakeChannel

    context = window.context
    with FakeEnergyCap(api_key="demo") as fake:
        fake.add_meter(1, "SITE-B", [FakeChannel(11, "SITE-B-ELEC", "Use", "kWh", 1800)])
        fake.add_meter(2, "SITE-A", [FakeChannel(21, "SITEA-333", "Use", "kWh", 1800)])
        saved = context.settings.energycap.url
        context.settings.energycap.url = fake.url
        os.environ["ECAP_API_KEY"] = "demo"
        window.dead.fix_button.click()
        editor = window.actions_.dialogs[-1]
        screen.place(editor, (1180, 600))
        loaded: list[object] = []
        editor.catalog_loaded.connect(loaded.append)
        editor.fetch_catalog()
        wait_for(screen.app, lambda: loaded)
        opened: list[int] = []
        editor.pane.channels_loaded.connect(opened.append)
        editor.pane.expand_meter(0)
        wait_for(screen.app, lambda: opened)
        editor.table.setCurrentCell(editor.table.rowCount() - 1, 0)
        editor.pane.select_channel(0, 0)
        editor.use.click()
        context.settings.energycap.url = saved
    screen.save([window, editor], path)
    editor.guard.dirty = False
    editor.close()


def shots(screen: Screen, out: Path, guide: bool) -> None:
    """Every picture of one size and theme."""
    empty = main_window(screen, context_for(Path(tempfile.mkdtemp()), fill=False))
    screen.save([empty], out / "first-start.png")
    if guide:
        connect(screen, empty, out / "connect.png")
    services = Services()
    os.environ["ECAP_API_KEY"] = "demo"  # connected (the pause below is a refused key)
    window = main_window(screen, context_for(Path(tempfile.mkdtemp()), fill=True), services)
    screen.save([window], out / "dashboard.png")
    preview = preview_over(screen, window)
    screen.save([window, preview], out / "preview.png")
    preview.close()
    wizard = device_wizard(screen, window, services)
    screen.save([window, wizard], out / "push-device.png")
    wizard.reject()
    if guide:
        window.tabs.setCurrentWidget(window.dead)
        window.dead.table.selectRow(0)
        mapping(screen, window, out / "mapping.png")
        screen.save([window], out / "refused.png")
        error_details(screen, window, out / "error-details.png")


def error_details(screen: Screen, window: Any, path: Path) -> None:
    """A pull that failed: one plain sentence in the banner, the client's words in Details…"""
    from app.core.error_kinds import UNREACHABLE
    from app.core.pulls.jobs import JobOutcome

    window.tabs.setCurrentIndex(0)
    words = ("did not answer GET https://api.verdigris.co/data/v4/energy/circuits after 3 "
             "attempts (last: connection failed (ConnectionError))")  # fmt: skip
    failed = JobOutcome(False, words, kind=UNREACHABLE)  # as the runner records a failed run
    window.actions_.sources.reports.finished.emit("Campus (Verdigris)", failed)
    wait_for(screen.app, lambda: window.banner.label.text().startswith("“Campus"))
    box = window.banner.show_details()
    details = next((b for b in box.buttons() if b.text().startswith("Show Details")), None)
    if details is not None:
        details.click()  # the technical words unfolded, as after a click on Show Details…
    box.adjustSize()
    box.move(screen.available.center() - box.rect().center())
    screen.save([window, box], path)
    box.close()


def main() -> int:
    """Make the pictures of every size and theme."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    os.environ["METERBRIDGE_HOME"] = tempfile.mkdtemp(prefix="meterbridge-screens-")
    from app.ui.application import ensure_qapp
    from tests.fakes.memory_keyring import installed

    app = ensure_qapp()
    with installed():  # the key as the app keeps it: in a keyring (here one in memory)
        make_all(app, args.out)
    return 0


def make_all(app: Any, out: Path) -> None:
    """Every size and theme."""
    from app.ui.theme import apply_theme

    for width, height, theme in VARIANTS:
        apply_theme(app, theme)
        guide = (width, theme) == (1366, "light")
        os.environ.pop("ECAP_API_KEY", None)
        shots(Screen(app, width, height, theme == "dark"), out / f"{width}x{height}-{theme}",
              guide)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
