"""Help: the user guide shipped with the app (docs/user-guide.md and its screenshots)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImageReader, QKeySequence, QShortcut, QTextCursor, QTextImageFormat
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget

from app.core.resources import resources_root
from app.ui.buttons import ButtonRow, Standard

IMAGE_WIDTH = 640  # screenshots are shown at this width (they are made at 1366 px)


def user_guide_path() -> Path:
    """docs/user-guide.md beside resources/ (in the source tree and in the installed app)."""
    return resources_root().parent / "docs" / "user-guide.md"


class HelpWindow(QDialog):
    """The user guide in a reader window; links to other pages open in it too."""

    def __init__(self, guide: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.guide = guide or user_guide_path()
        self.setWindowTitle("meterbridge — user guide")
        self.setAccessibleName("User guide")
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("User guide text")
        self.browser.setOpenExternalLinks(True)
        buttons = ButtonRow()
        buttons.add_standard(Standard.Close, self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        QShortcut(QKeySequence.StandardKey.Close, self, self.close)
        self.resize(820, 640)
        self.load()

    def load(self) -> bool:
        """Show the guide; False (and a plain sentence) when it is not where it should be."""
        try:
            text = self.guide.read_text(encoding="utf-8")
        except OSError:
            self.browser.setPlainText(
                f"The user guide is missing from this installation (looked for {self.guide}). "
                "Reinstalling meterbridge puts it back."
            )
            return False
        document = self.browser.document()
        document.setBaseUrl(QUrl.fromLocalFile(str(self.guide.parent) + "/"))
        self.browser.setSearchPaths([str(self.guide.parent)])
        document.setMarkdown(text)
        self._fit_images()
        self.browser.moveCursor(QTextCursor.MoveOperation.Start)  # open at the title
        return True

    def _fit_images(self) -> None:
        """Shrink the screenshots to a readable width (keeping their proportions)."""
        document = self.browser.document()
        block = document.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                image = fragment.charFormat().toImageFormat()
                if fragment.isValid() and image.isValid():
                    self._resize(fragment.position(), fragment.length(), image)
                it += 1
            block = block.next()

    def _resize(self, position: int, length: int, image: QTextImageFormat) -> None:
        size = QImageReader(str(self.guide.parent / image.name())).size()
        if size.width() > IMAGE_WIDTH:
            image.setWidth(IMAGE_WIDTH)
            image.setHeight(size.height() * IMAGE_WIDTH / size.width())
            cursor = QTextCursor(self.browser.document())
            cursor.setPosition(position)
            cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
            cursor.setCharFormat(image)
