"""The main window's "12 pushes held: map them" row, with its "Map held pushes…" button.

Hidden while nothing is held. Every few seconds a worker counts the held
pushes (`app.core.listener.held`); the button opens the map-by-example dialog
for the device (a menu when several devices have held pushes), whose "Save
and send held pushes" replays into the journal on a worker, like
``meterbridge device captures NAME --replay``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QPushButton, QWidget

from app.core.listener.held import held_row_text
from app.ui.workers import Worker, start

REFRESH_MS = 5000


class HeldPushesRow(QFrame):
    """One line under the banner while pushes are held for mapping."""

    counted = Signal(dict)  # device → held pushes, after each count

    def __init__(self, paths: Any, settings: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths, self.settings = paths, settings
        self.counts: dict[str, int] = {}
        self._worker: Worker | None = None
        self.label = QLabel()
        self.label.setAccessibleName("Pushes held for mapping")
        self.button = QPushButton("&Map held pushes…")
        self.button.clicked.connect(self._on_button_clicked)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.hide()
        QTimer.singleShot(0, self.refresh)

    def refresh(self) -> None:
        """Count the held pushes on a worker (skipped while a count runs)."""
        if self._worker is not None:
            return
        data_dir = self.paths.data_dir
        worker = Worker(lambda _p, _c: count_held(data_dir))
        worker.signals.succeeded.connect(self.show_counts)
        worker.signals.finished.connect(self._on_worker_finished)
        self._worker = start(worker)

    def _on_worker_finished(self) -> None:
        self._worker = None

    def show_counts(self, counts: dict[str, int]) -> None:
        """Show (or hide) the row for `counts`."""
        self.counts = dict(counts)
        text = held_row_text(self.counts)
        self.label.setText(text)
        self.setVisible(bool(text))
        self.counted.emit(self.counts)

    def _on_button_clicked(self) -> None:
        devices = sorted(self.counts)
        if len(devices) == 1:
            self.open_dialog(devices[0])
            return
        menu = QMenu(self)
        for name in devices:
            action = menu.addAction(f"{name} ({self.counts[name]} held)")
            action.triggered.connect(lambda _=False, n=name: self.open_dialog(n))
        menu.popup(self.button.mapToGlobal(self.button.rect().bottomLeft()))

    def open_dialog(self, device: str) -> Any:
        """The map-by-example dialog of `device`'s held pushes (shown, not modal)."""
        from app.ui.captures.map_dialog import MapHeldDialog

        held = open_held(self.paths)
        dialog = MapHeldDialog(
            held, device, send=lambda: send_held(self.paths, self.settings, device)
        )
        dialog.finished.connect(lambda _r: (held.captures.close(), self.refresh()))
        dialog.show()
        return dialog


def count_held(data_dir: Any) -> dict[str, int]:
    """Held pushes per device in the home's capture store (on a worker)."""
    from app.core.listener.capture import CaptureStore

    path = data_dir / "captures.sqlite3"
    if not path.exists():
        return {}
    store = CaptureStore(path)
    try:
        return store.held_counts()
    finally:
        store.close()


def open_held(paths: Any) -> Any:
    """The `HeldPushes` of the home (devices and capture store)."""
    from app.core.listener.capture import CaptureStore
    from app.core.listener.held import HeldPushes
    from app.core.sources.devices import DeviceRegistry

    devices = DeviceRegistry(
        paths.config_dir / "devices.json", paths.data_dir / "device-stats.json"
    )
    return HeldPushes(devices, CaptureStore(paths.data_dir / "captures.sqlite3"))


def send_held(paths: Any, settings: Any, device: str) -> Any:
    """Replay `device`'s held pushes into the home's journal (on a worker); the report."""
    from app.core.journal.store import Journal
    from app.core.listener.commit import PushCommitter, PushJob
    from app.core.sources.register_store import RegisterStore

    held = open_held(paths)
    journal = Journal.from_settings(paths.journal_file, settings.journal)
    registers = RegisterStore(paths.data_dir / "registers.sqlite3")
    committer = PushCommitter(journal, registers)

    def commit(job: PushJob) -> None:
        committer.commit_group([job])

    try:
        return held.send(device, commit)
    finally:
        registers.close()
        journal.close()
        held.captures.close()
