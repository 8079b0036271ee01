"""The wizards' last page says where every source's readings go (no page of its own), and opens
Settings; the source's settings are labelled rows in plain words."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QLineEdit
from pytestqt.qtbot import QtBot

from app.core.sources.records import find_source, load_sources, sources_file
from app.core.sources.setup import save_source
from app.ui.context import AppContext
from app.ui.settings.dialog import CUSTOM, SettingsDialog
from app.ui.window.main_window import MainWindow
from app.ui.wizards.source_wizard import DESTINATION, SOURCE, SUMMARY, SourceWizard
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.fixtures import API_KEY


def _wizard(qtbot: QtBot, wizard: SourceWizard) -> SourceWizard:
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    return wizard


def _to_destination(qtbot: QtBot, wizard: SourceWizard, folder: Path) -> None:
    """Fill the generic folder source by keyboard and press Enter up to the Destination page."""
    page = wizard.page(SOURCE)
    page.folder.setFocus()
    qtbot.keyClicks(page.folder, str(folder))
    while wizard.currentId() != DESTINATION:
        before = wizard.currentId()
        qtbot.keyClick(wizard, Qt.Key.Key_Return)
        assert wizard.currentId() != before, wizard.currentPage().error.text()


def _settings_dialog() -> SettingsDialog:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, SettingsDialog)]
    visible = [w for w in found if w.isVisible()]
    assert len(visible) == 1, found
    return visible[0]


def test_no_connection_says_outbox_for_all_sources_and_settings_changes_it(
    qtbot: QtBot, context: AppContext, tmp_path: Path, energycap: FakeEnergyCap
) -> None:
    wizard = _wizard(qtbot, SourceWizard(context, "generic"))
    _to_destination(qtbot, wizard, tmp_path)
    page = wizard.page(DESTINATION)
    assert page.where.text() == (
        "No EnergyCAP connection is set: the readings of every source are written as EnergyCAP "
        f"import files (CSV + profile) to the outbox folder {context.paths.outbox_dir}, "
        "to import by hand."
    )
    assert "same for every source" in page.note.text() and "in Settings" in page.note.text()
    assert not page.test.isEnabled()  # nothing to test yet
    # No per-source choice that would be ignored: no radio buttons, lists or fields.
    choices = [b for b in page.findChildren(QAbstractButton) if b.isCheckable()]
    assert choices == [] and page.findChildren(QComboBox) == []
    assert page.findChildren(QLineEdit) == []
    # Alt+S opens Settings; the connection saved there is what the page then shows.
    qtbot.keyClick(wizard, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: any(isinstance(w, SettingsDialog) and w.isVisible()
                                for w in QApplication.topLevelWidgets()))  # fmt: skip
    dialog = _settings_dialog()
    dialog.host.setCurrentText(CUSTOM)
    dialog.custom_url.setText(energycap.url)
    dialog.key.setText(API_KEY)
    dialog.api.setCurrentText("esa")
    dialog.accept()
    qtbot.waitUntil(lambda: energycap.url in page.where.text())
    assert page.where.text() == (
        f"The readings of every source go to EnergyCAP at {energycap.url} through the "
        "ESA (Smart Analytics) API; reading times mark the interval end."
    )
    assert page.test.isEnabled()
    page.test.setFocus()
    qtbot.keyClick(page.test, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: page.result.text() not in ("", "Testing…"), timeout=20_000)
    assert page.result.text() == f"The key works on {energycap.url.split('//')[1]}."
    # It is the summary: labelled rows in plain words; what is saved holds no destination.
    assert wizard.currentId() == SUMMARY
    summary = wizard.page(SUMMARY).summary_text()
    assert f"Readings go to: The readings of every source go to EnergyCAP at {energycap.url}" \
        in summary  # fmt: skip
    assert f"Folder: {tmp_path}" in summary and "Runs: every 30 minutes" in summary
    words = summary.replace(str(tmp_path), "")
    assert "True" not in words and "[" not in words and "_" not in words
    with qtbot.waitSignal(wizard.source_saved):
        qtbot.keyClick(wizard, Qt.Key.Key_Return)
    saved = json.loads(sources_file(context.paths.config_dir).read_text("utf-8"))
    assert [sorted(s) for s in saved] == [
        ["connector", "interval_minutes", "kind", "mapping_file", "name", "settings"]
    ]


def test_a_key_missing_and_a_push_device_without_connection_are_said_plainly(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    context.settings.energycap.url = "https://app.energycap.com"
    wizard = _wizard(qtbot, SourceWizard(context, "generic"))
    _to_destination(qtbot, wizard, tmp_path)
    text = wizard.page(DESTINATION).where.text()
    assert text.startswith("The readings of every source go to EnergyCAP at "
                           "https://app.energycap.com through the Readings API")  # fmt: skip
    assert text.endswith("No API key is saved yet: nothing is delivered until one is saved in "
                         "Settings.")  # fmt: skip
    context.settings.energycap.url = ""
    device = _wizard(qtbot, SourceWizard(context, "episensor"))
    device.page(DESTINATION).initializePage()
    assert device.page(DESTINATION).where.text() == (
        "No EnergyCAP connection is set: the readings devices push are kept in the journal "
        "and delivered once the connection is set in Settings."
    )


def test_from_the_main_window_open_settings_is_the_windows_own_dialog(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    wizard = window.actions_.open_wizard("generic")
    qtbot.addWidget(wizard)
    page = wizard.page(DESTINATION)
    wizard.setStartId(DESTINATION)
    wizard.restart()
    page.open_settings.click()
    dialog = _settings_dialog()
    assert dialog in window.actions_.dialogs  # its OK restarts the app's services
    context.settings.energycap.url = "https://wce.energycap.com"  # as if saved meanwhile
    dialog.reject()
    assert "EnergyCAP at https://wce.energycap.com" in page.where.text()  # read again


def test_old_records_with_a_destination_and_api_still_load_and_edit(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    old = [{"kind": "generic", "name": "BMS", "connector": "generic",
            "settings": {"folder": str(tmp_path), "tz": "UTC"}, "mapping_file": "",
            "interval_minutes": 15, "destination": "outbox", "api": "import"}]  # fmt: skip
    path = sources_file(context.paths.config_dir)
    path.write_text(json.dumps(old), encoding="utf-8")
    setup = find_source("BMS", context.paths)
    assert setup is not None and setup.interval_minutes == 15
    wizard = _wizard(qtbot, SourceWizard(context, editing=setup))
    settings = wizard.setup().settings
    assert (settings["folder"], settings["tz"]) == (str(tmp_path), "UTC")
    save_source(wizard.setup(), context.paths, context.secrets, replaces="BMS")
    assert [s.name for s in load_sources(path)] == ["BMS"]
    assert "destination" not in path.read_text("utf-8")


def test_a_source_uses_the_apps_mapping_unless_given_its_own(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    app_mapping = context.paths.config_dir / "mapping.csv"
    app_mapping.write_text("source_id,label,meter_import_id\nM1,Depot,MTR-1\n", "utf-8")
    context.settings.mapping_file = str(app_mapping)  # saved by the mapping editor
    wizard = _wizard(qtbot, SourceWizard(context, "generic"))
    _to_destination(qtbot, wizard, tmp_path)
    summary = wizard.page(SUMMARY).summary_text()
    assert "Mapping: the app's mapping (Mapping on the toolbar)" in summary
    assert str(app_mapping) not in summary  # not a path the user never chose
    with qtbot.waitSignal(wizard.source_saved):
        qtbot.keyClick(wizard, Qt.Key.Key_Return)
    saved = find_source(wizard.source_name(), context.paths)
    assert saved is not None and saved.mapping_file == ""  # follows the app's mapping
