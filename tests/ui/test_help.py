"""Help opens the user guide shipped with the app, its screenshots shown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from app.ui.context import AppContext
from app.ui.help_window import HelpWindow, user_guide_path
from app.ui.window.main_window import MainWindow


def test_the_toolbar_help_opens_the_guide_with_its_pictures(
    qtbot: QtBot, context: AppContext
) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.toolbar_actions["help"].trigger()
    guide = window.actions_.dialogs[-1]
    assert isinstance(guide, HelpWindow)
    text = guide.browser.toPlainText()
    for step in ("Connect EnergyCAP", "Drop a file", "Set up a push device", "Map meters",
                 "Fix refused readings"):  # fmt: skip
        assert step in text
    pictures = [
        line.split("(", 1)[1].rstrip(")")
        for line in user_guide_path().read_text("utf-8").splitlines()
        if line.startswith("![")
    ]
    assert len(pictures) == 6  # the five steps and an error with its Details
    document = guide.browser.document()
    for picture in pictures:
        assert (user_guide_path().parent / picture).is_file(), picture
        image = document.resource(QTextDocument.ResourceType.ImageResource, QUrl(picture))
        assert image is not None and not image.isNull(), picture


def test_a_missing_guide_is_said_plainly(qtbot: QtBot, tmp_path: Path) -> None:
    guide = HelpWindow(tmp_path / "user-guide.md")
    qtbot.addWidget(guide)
    assert "The user guide is missing from this installation" in guide.browser.toPlainText()


def test_the_guide_opens_at_its_beginning(qtbot: QtBot) -> None:
    guide = HelpWindow()
    qtbot.addWidget(guide)
    guide.show()
    qtbot.waitExposed(guide)
    qtbot.wait(100)  # the pictures are laid out
    bar = guide.browser.verticalScrollBar()
    assert bar.maximum() > 0  # longer than the window
    assert bar.value() == 0  # the title, not the last section
    assert guide.browser.textCursor().position() == 0
