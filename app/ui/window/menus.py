"""The main window's menus and toolbar: every command in one place, with its shortcut."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

from app.ui.window.host import MenuHost


def action(window: MenuHost, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
    """A window action calling `slot()`."""
    made = QAction(text, window)
    if shortcut is not None:
        made.setShortcut(QKeySequence(shortcut))
    if tip:
        made.setToolTip(tip)
    made.triggered.connect(lambda _checked=False: slot())
    return made


def build_menus(window: MenuHost) -> dict[str, QAction]:
    """The File, Tools and Help menus and the toolbar; returns the toolbar's actions by name."""
    acts = window.actions_
    common = {
        "open": action(window, "&Open file…", acts.open_dialog, QKeySequence.StandardKey.Open,
                       "Preview a meter file before sending it"),
        "add": action(window, "&Add source…", lambda: acts.open_wizard(None), None,
                      "Set up a device, a folder, an SFTP server, Verdigris or a CSV source"),
        "settings": action(window, "&Settings…", acts.open_settings, "Ctrl+,",
                           "EnergyCAP connection, listener, appearance"),
        "mapping": action(window, "&Mapping…", acts.open_mapping_editor, "Ctrl+M",
                          "Which EnergyCAP meter or channel each source goes to"),
        "help": action(window, "&Help", acts.open_user_guide, QKeySequence.StandardKey.HelpContents,
                       "The user guide"),
    }  # fmt: skip
    file_menu = window.menuBar().addMenu("&File")
    file_menu.addAction(common["open"])
    add_menu = file_menu.addMenu("Add &source")
    for kind, title in acts.wizard_kinds():
        add_menu.addAction(action(window, title, lambda k=kind: acts.open_wizard(k)))
    file_menu.addSeparator()
    file_menu.addAction(common["settings"])
    file_menu.addSeparator()
    file_menu.addAction(action(window, "&Quit", window.quit_app, QKeySequence.StandardKey.Quit))
    tools = window.menuBar().addMenu("&Tools")
    tools.addAction(common["mapping"])
    tools.addAction(action(window, "&Deliver now", window.deliver_now, None,
                           "Send what waits to EnergyCAP now"))  # fmt: skip
    tools.addAction(action(window, "&Refresh", window.refresh, QKeySequence.StandardKey.Refresh))
    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction(common["help"])
    help_menu.addAction(
        action(window, "&Log", lambda: window.tabs.setCurrentWidget(window.log_viewer))
    )
    help_menu.addAction(action(window, "&About meterbridge", acts.about))
    toolbar = QToolBar("Main")
    toolbar.setObjectName("MainToolbar")
    toolbar.setAccessibleName("Main toolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for key in ("open", "add", "settings", "mapping", "help"):
        toolbar.addAction(common[key])
        button = toolbar.widgetForAction(common[key])
        button.setAccessibleName(common[key].text().replace("&", "").rstrip("…"))
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
    return common
