"""Settings: the API key goes to the keyring (never the file), the Test button proves it."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backends import fail
from pytestqt.qtbot import QtBot

from app.core.settings import HOST_PRESETS, load_settings
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.settings.dialog import CUSTOM, SettingsDialog
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.memory_keyring import MemoryKeyring


def _dialog(qtbot: QtBot, context: AppContext) -> SettingsDialog:
    dialog = SettingsDialog(context)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_key_is_saved_in_the_keyring_not_in_the_settings_file(
    qtbot: QtBot, context: AppContext, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, context)
    eu = "EU (app-eu.energycap.com)"
    dialog.host.setCurrentText(eu)
    qtbot.keyClicks(dialog.key, "s3cret-key-123")
    assert dialog.keyring.text().startswith("The API key is kept in ")
    with qtbot.waitSignal(dialog.accepted):
        dialog.accept()
    assert memory_keyring.store[("meterbridge", API_KEY_SECRET)] == "s3cret-key-123"
    text = context.paths.settings_file.read_text(encoding="utf-8")
    assert "s3cret-key-123" not in text
    assert json.loads(text)["energycap"]["url"] == HOST_PRESETS[eu]
    assert load_settings(context.paths.settings_file).energycap.url == HOST_PRESETS[eu]


def test_no_keyring_is_said_plainly_and_nothing_is_written(
    qtbot: QtBot, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(fail.Keyring())
    dialog = _dialog(qtbot, context)
    said = dialog.keyring.text()  # what to do, in plain words; no backend class names
    assert said.startswith("No keyring is running, so the API key cannot be saved safely.")
    assert "ECAP_API_KEY" in said and "never writes the key to a plain file" in said
    assert "keyring.backends" not in said and "Keyring" not in said
    assert not dialog.key.isEnabled()
    assert dialog._store_key() is None  # nothing typed, nothing stored
    dialog.key.setEnabled(True)  # even if a key were typed, it is refused, not written
    dialog.key.setText("would-be-plaintext")
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.message.text() == said
    assert not context.paths.settings_file.exists()


def test_test_button_proves_the_key_against_a_real_server(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap
) -> None:
    dialog = _dialog(qtbot, context)
    dialog.host.setCurrentText(CUSTOM)
    dialog.custom_url.setText(energycap.url)
    dialog.key.setText("test-key")
    with qtbot.waitSignal(dialog.test.clicked):
        dialog.test.click()
    qtbot.waitUntil(lambda: dialog.result.text() not in ("", "Testing…"), timeout=20_000)
    assert dialog.result.text() == f"The key works on {energycap.url.split('//')[1]}."
    dialog.key.setText("wrong-key")
    dialog.test.click()
    qtbot.waitUntil(lambda: dialog.result.text() not in ("", "Testing…"), timeout=20_000)
    assert dialog.result.text() == (
        "EnergyCAP refused the key: check it, and that it was made on this host."
    )
    assert dialog.details.isVisible() and "HTTP 401" in dialog.detail_text
    assert "wrong-key" not in dialog.result.text() + dialog.detail_text


def test_app_preferences_and_autostart(qtbot: QtBot, context: AppContext, tmp_path) -> None:
    dialog = _dialog(qtbot, context)
    dialog.theme.setCurrentText("dark")
    dialog.prefs_boxes["start_with_os"].setChecked(True)
    dialog.accept()
    assert context.prefs.theme == "dark"
    entry = tmp_path / "xdg" / "autostart" / "meterbridge.desktop"
    assert "gui --minimized" in entry.read_text(encoding="utf-8")
    saved = json.loads((context.paths.config_dir / "ui.json").read_text(encoding="utf-8"))
    assert saved["theme"] == "dark" and saved["start_with_os"] is True


def test_sizes_in_mb_or_gb_days_whole_and_advanced_folded(
    qtbot: QtBot, context: AppContext
) -> None:
    from app.ui.settings.form import DataclassForm

    journal = context.settings.journal
    journal.max_bytes = 4_294_967_296
    form = DataclassForm(journal)
    qtbot.addWidget(form)
    size = form.editors["max_bytes"]
    assert size.text() == "4.3 GB"
    assert form.editors["retention_days"].text().endswith(" days")
    assert "." not in form.editors["retention_days"].text()
    assert form.advanced.isHidden() and not form.more.isHidden()
    assert form.advanced.isAncestorOf(size)  # a limit few people change
    form.apply()
    assert journal.max_bytes == 4_294_967_296  # untouched on screen: exact bytes kept
    size.setValue(2.0)
    form.apply()
    assert journal.max_bytes == 2_000_000_000


def test_accept_pushes_from_the_network_alone_turns_network_listening_on_and_off(
    qtbot: QtBot, context: AppContext
) -> None:
    dialog = _dialog(qtbot, context)
    listener_form = next(f for f in dialog.forms if f.section is context.settings.listener)
    listener_form.editors["allow_lan"].setChecked(True)  # the address field left as it was
    dialog.accept()
    saved = load_settings(context.paths.settings_file).listener
    assert (saved.allow_lan, saved.host) == (True, "0.0.0.0")  # every interface: devices reach it
    dialog = _dialog(qtbot, context)
    listener_form = next(f for f in dialog.forms if f.section is context.settings.listener)
    listener_form.editors["allow_lan"].setChecked(False)
    dialog.accept()
    saved = load_settings(context.paths.settings_file).listener
    assert (saved.allow_lan, saved.host) == (False, "127.0.0.1")  # this PC only again


def test_a_two_line_test_result_shows_whole(qtbot: QtBot, context: AppContext) -> None:
    dialog = _dialog(qtbot, context)
    dialog.resize(640, 520)
    assert dialog.result.isHidden()  # no result yet: no empty row
    dialog.result.setText("Testing…")  # as the button does first
    qtbot.wait(50)
    dialog._show_result(
        "EnergyCAP refused the key: check it, and that it was made on this host; then press "
        "Test connection again, or open the EnergyCAP web site to make a new key."
    )
    label, page = dialog.result, dialog.result.parentWidget()

    def top(widget) -> int:
        return widget.mapTo(page, widget.rect().topLeft()).y()

    above = dialog.time_label  # the row above the Test button
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    assert label.heightForWidth(label.width()) > label.fontMetrics().lineSpacing() * 1.5
    assert top(label) >= top(above) + above.height()  # not painted under the row above
    assert top(dialog.keyring) >= top(label) + label.height()  # nor under the row below
