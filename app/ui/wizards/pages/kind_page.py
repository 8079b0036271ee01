"""First page when no kind was chosen: what kind of source to add."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QLabel, QRadioButton

from app.ui.wizards.base_page import FormPage
from app.ui.wizards.kinds import WIZARD_KINDS


class KindPage(FormPage):
    """Radio buttons, one per source kind, each with a line of explanation."""

    def __init__(self) -> None:
        super().__init__("What do you want to connect?", "Choose the kind of meter data source.")
        self.group = QButtonGroup(self)
        for number, kind in enumerate(WIZARD_KINDS):
            button = QRadioButton(kind.title.rstrip("…"))
            button.setAccessibleName(kind.title.rstrip("…"))
            button.setAccessibleDescription(kind.summary)
            button.setChecked(number == 0)
            self.group.addButton(button, number)
            hint = QLabel(kind.summary)
            hint.setWordWrap(True)
            hint.setStyleSheet("color: palette(placeholder-text); margin-left: 22px;")
            self.extra.addWidget(button)
            self.extra.addWidget(hint)

    def chosen(self) -> str:
        """The kind picked."""
        return WIZARD_KINDS[max(0, self.group.checkedId())].kind
