"""Every control a user can reach has an accessible name (screen readers read it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.ui.context import AppContext
from app.ui.mapping.editor import MappingEditor
from app.ui.preview.window import PreviewWindow
from app.ui.settings.dialog import SettingsDialog
from app.ui.window.main_window import MainWindow
from app.ui.wizards.kinds import WIZARD_KINDS
from app.ui.wizards.source_wizard import SourceWizard
from connectors.base import Source

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView,
            QPlainTextEdit, QTabWidget)  # fmt: skip
# Parts of a compound control; the compound itself carries the name.
INNER = (QAbstractSpinBox, QComboBox, QTabBar, QHeaderView)


def unnamed_controls(top: QWidget) -> list[str]:
    """Descriptions of reachable controls under `top` without an accessible name."""
    missing = []
    for widget in top.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or isinstance(widget, QHeaderView):
            continue
        if _inside_compound(widget, top) or not widget.isVisibleTo(top):
            continue
        if not widget.accessibleName().strip():
            text = getattr(widget, "text", lambda: "")()
            missing.append(f"{type(widget).__name__} {widget.objectName()!r} {text!r}")
    return missing


def _inside_compound(widget: QWidget, top: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not top:
        if isinstance(parent, INNER):
            return True
        parent = parent.parentWidget()
    return False


def test_main_window_settings_and_mapping_editor(qtbot: QtBot, context: AppContext) -> None:
    for top in (MainWindow(context), SettingsDialog(context), MappingEditor(context)):
        qtbot.addWidget(top)
        top.show()
        assert unnamed_controls(top) == [], type(top).__name__


def test_preview(qtbot: QtBot, context: AppContext, hh_samples: Path) -> None:
    path = hh_samples / "row-per-reading.csv"
    preview = PreviewWindow(
        path, context.registry.rank(Source.from_path(path)), context.mapping_table()
    )
    qtbot.addWidget(preview)
    preview.show()
    with qtbot.waitSignals([preview.loaded, preview.settled], timeout=30_000):
        preview.start()
    assert preview.data is not None and len(preview.data.mapped) == 48
    assert unnamed_controls(preview) == []


@pytest.mark.parametrize("kind", [None, *(k.kind for k in WIZARD_KINDS)])
def test_every_wizard_page(qtbot: QtBot, context: AppContext, kind: str | None) -> None:
    wizard = SourceWizard(context, kind)
    qtbot.addWidget(wizard)
    wizard.show()
    for number in wizard.pageIds():
        page = wizard.page(number)
        assert unnamed_controls(page) == [], f"{kind} page {type(page).__name__}"
    assert unnamed_controls(wizard) == []


def mnemonics(top: QWidget) -> list[str]:
    """The Alt+letter keys of the visible labels and buttons under `top`."""
    import re

    from PySide6.QtWidgets import QLabel

    keys = []
    for widget in top.findChildren(QWidget):
        if isinstance(widget, (QLabel, QAbstractButton)) and widget.isVisibleTo(top):
            found = re.search(r"&([^&\s])", widget.text())
            if found:
                keys.append(found.group(1).lower())
    return keys


@pytest.mark.parametrize("kind", [k.kind for k in WIZARD_KINDS])
def test_wizard_mnemonics_are_unique_on_each_page(
    qtbot: QtBot, context: AppContext, kind: str
) -> None:
    wizard = SourceWizard(context, kind)
    qtbot.addWidget(wizard)
    wizard.show()
    buttons = [wizard.button(b) for b in (wizard.WizardButton.NextButton,
                                          wizard.WizardButton.BackButton)]  # fmt: skip
    for number in wizard.pageIds():
        page = wizard.page(number)
        page.show()
        keys = mnemonics(page) + [b.text().split("&")[1][0].lower() for b in buttons]
        assert len(keys) == len(set(keys)), f"{kind} {type(page).__name__}: {sorted(keys)}"
