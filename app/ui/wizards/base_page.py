"""A wizard page with a form, plain error text and validation by core functions."""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from app.core.sources.records import SourceSetup
from app.ui.buttons import beside, button  # pages import `button` from here too
from app.ui.context import AppContext
from app.ui.wizards.kinds import WizardKind


class WizardHost(Protocol):
    """What a page uses of the wizard it belongs to (`source_wizard.SourceWizard`).

    The wizard imports its pages; a page sees the wizard only through this.
    """

    context: AppContext

    @property
    def kind(self) -> str:
        """The kind being set up (``uk-hh-sftp`` when UK files come over SFTP)."""

    @property
    def source_page(self) -> FormPage:
        """The kind's source settings page."""

    def kind_info(self) -> WizardKind:
        """The chosen kind's description."""

    def page_values(self, which: str) -> dict[str, Any]:
        """The values of one page (``source``, ``mapping``, ``schedule`` ...)."""

    def setup(self) -> SourceSetup:
        """The source as the pages describe it."""


def note_label(name: str, text: str = "") -> QLabel:
    """A word-wrapped label (a test's result, a note) with its accessible name."""
    label = QLabel(text)
    label.setAccessibleName(name)
    label.setWordWrap(True)
    return label


class FormPage(QWizardPage):
    """Fields in a form; `problem()` (core validation) decides whether Next works."""

    def __init__(self, title: str, subtitle: str = "") -> None:
        super().__init__()
        self.setTitle(title)
        self.setSubTitle(subtitle)
        outer = QVBoxLayout(self)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(self.form)
        self.extra = QVBoxLayout()
        outer.addLayout(self.extra)
        outer.addStretch(1)
        self.error = QLabel("")
        self.error.setAccessibleName(f"{title} problems")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d03a2f;")
        outer.addWidget(self.error)

    # --- building ----------------------------------------------------------------
    def add(self, label: str, widget: QWidget, name: str | None = None, help: str = "") -> Any:
        """Add a labelled field; its accessible name is the label without '&' and ':'."""
        widget.setAccessibleName(name or label.replace("&", "").rstrip(":"))
        if help:
            widget.setToolTip(help)
            widget.setAccessibleDescription(help)
        caption = QLabel(label)
        caption.setBuddy(widget)
        self.form.addRow(caption, widget)
        return widget

    def line(self, label: str, text: str = "", placeholder: str = "", **kw: Any) -> QLineEdit:
        """A text field."""
        edit = QLineEdit(text)
        edit.setPlaceholderText(placeholder)
        return self.add(label, edit, **kw)  # type: ignore[no-any-return]

    def combo(self, label: str, items: list[str], **kw: Any) -> QComboBox:
        """A drop-down."""
        box = QComboBox()
        box.addItems(items)
        return self.add(label, box, **kw)  # type: ignore[no-any-return]

    def spin(self, label: str, low: int, high: int, value: int, **kw: Any) -> QSpinBox:
        """A number field."""
        box = QSpinBox()
        box.setRange(low, high)
        box.setValue(value)
        return self.add(label, box, **kw)  # type: ignore[no-any-return]

    @staticmethod
    def with_button(edit: QLineEdit, text: str, name: str, slot: Any) -> QWidget:
        """`edit` with a button after it (Browse…, Copy) calling `slot()`."""
        return beside(edit, button(text, name, slot))

    def path_field(
        self, label: str, placeholder: str, browse_name: str, slot: Any, browse: str = "Browse…"
    ) -> QLineEdit:
        """A file or folder field with its Browse… button (calling `slot()`) on one row.

        The field is named by its label; the row by the label and "row".
        """
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        name = label.replace("&", "").rstrip(":")
        self.add(label, self.with_button(edit, browse, browse_name, slot), name=f"{name} row")
        edit.setAccessibleName(name)
        return edit

    def check(self, text: str, checked: bool = False) -> QCheckBox:
        """A check box on its own row."""
        box = QCheckBox(text)
        box.setChecked(checked)
        box.setAccessibleName(text.replace("&", ""))
        self.form.addRow("", box)
        return box

    # --- validation ------------------------------------------------------------------
    def wiz(self) -> WizardHost:
        """The wizard this page belongs to."""
        return self.wizard()  # type: ignore[return-value]

    def problem(self) -> str | None:
        """The first problem with the page's fields (None: fine). Pages override."""
        return None

    def values(self) -> dict[str, Any]:
        """The page's settings for the source. Pages override."""
        return {}

    def validatePage(self) -> bool:
        """Next/Finish only when `problem()` is None; else say why, in plain words."""
        message = self.problem()
        self.error.setText(message or "")
        return message is None

    def nextId(self) -> int:
        """Route through the wizard's page sequence for the chosen kind."""
        wizard = self.wizard()
        if wizard is None or not hasattr(wizard, "next_after"):
            return -1
        return int(wizard.next_after(self))
