"""“Waiting for the first push…” → “✓ received 48 readings at 10:32”, live, with a test push."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.ui.snapshot import first_push_text
from app.ui.wizards.push.test_push import TestPushAnswer, send_test_push
from app.ui.workers import Worker, start

POLL_MS = 1000


class FirstPushStatus(QWidget):
    """What the listener has seen of one device, read every second; and “Send a test push”."""

    test_answered = Signal(object)  # TestPushAnswer

    def __init__(self, services: Callable[[], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.device = ""
        self.target: tuple[str, str, str, str] = ("", "", "", "")  # url, token, connector, serial
        self.label = QLabel(first_push_text(None))
        self.label.setAccessibleName("First push")
        self.label.setWordWrap(True)
        self.test_button = QPushButton("Send a te&st push")
        self.test_button.setAccessibleName("Send a test push")
        self.test_button.setToolTip(
            "Post a body shaped like this device's to the listener (it carries no readings)"
        )
        self.test_button.clicked.connect(self.send_test)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.test_button)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.worker: Worker | None = None

    def watch(self, device: str, url: str, token: str, connector: str, serial: str = "") -> None:
        """Follow `device` (its pushes) and aim test pushes at `url` with `token`."""
        self.device, self.target = device, (url, token, connector, serial)
        self.poll()
        self.timer.start()

    def stop(self) -> None:
        """Stop reading the listener's statistics."""
        self.timer.stop()

    def seen(self) -> dict[str, Any] | None:
        """The listener's statistics of the device (None without a listener)."""
        services = self._services()
        if services is None or not hasattr(services, "device_stats"):
            return None
        stats: dict[str, Any] | None = services.device_stats().get(self.device)
        return stats

    def poll(self) -> str:
        """Show what the listener saw; returns the text."""
        services = self._services()
        if services is None or not getattr(services, "listening", lambda: False)():
            text = ("The listener is not running, so the device cannot push yet: "
                    "see the status bar of the main window.")  # fmt: skip
        else:
            text = first_push_text(self.seen())
        self.label.setText(text)
        return text

    def send_test(self) -> Worker:
        """Post the device type's sample body to the listener (on a worker)."""
        url, token, connector, serial = self.target
        self.test_button.setEnabled(False)
        self.label.setText("Sending a test push…")
        worker = Worker(lambda _p, _c: send_test_push(url, token, connector, serial))
        worker.signals.succeeded.connect(self._on_answer)
        worker.signals.finished.connect(lambda: self.test_button.setEnabled(True))
        self.worker = start(worker)
        return worker

    def _on_answer(self, answer: TestPushAnswer) -> None:
        seen = self.poll() if answer.ok else ""
        self.label.setText(f"{answer.text} {seen}".strip())
        self.label.setStyleSheet("" if answer.ok else "color: #d03a2f;")
        self.test_answered.emit(answer)
