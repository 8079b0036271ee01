"""The status bar's services label ends in "…" instead of cutting a word in half."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.ui.elided_label import ElidedLabel

LONG = "Listening on http://127.0.0.1:8765/push/<device> · Schedule running (checked every 30 s)"


def test_a_long_note_is_drawn_elided_and_kept_whole(qtbot: QtBot) -> None:
    label = ElidedLabel(LONG)
    qtbot.addWidget(label)
    label.resize(160, 24)
    shown = label.fontMetrics().elidedText(LONG, Qt.TextElideMode.ElideRight, 160)
    assert shown.endswith("…") and len(shown) < len(LONG)
    reference = QLabel(shown)
    qtbot.addWidget(reference)
    reference.resize(160, 24)
    assert label.grab().toImage() == reference.grab().toImage()
    assert label.text() == LONG  # screen readers and the tooltip get all of it
