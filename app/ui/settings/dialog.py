"""Settings: EnergyCAP connection (key in the OS keyring), listener, delivery, app."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.secrets import NoKeyringError
from app.core.settings import HOST_PRESETS
from app.core.settings.listener import is_loopback
from app.core.sources import validation as v
from app.core.ui_settings import THEMES
from app.ui.autostart import set_autostart
from app.ui.buttons import ButtonRow, Standard
from app.ui.connection_test import (
    energycap_test_worker,
    keyring_words,
    no_keyring_help,
    split_details,
)
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.settings.form import DataclassForm
from app.ui.theme import apply_theme
from app.ui.workers import Worker, start

log = logging.getLogger(__name__)

CUSTOM = "Custom address…"


class SettingsDialog(QDialog):
    """Edits the settings; OK saves them (the key goes to the keyring, never the file)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.worker: Worker | None = None
        self.setWindowTitle("meterbridge — settings")
        self.setAccessibleName("Settings")
        self.resize(640, 520)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Settings sections")
        self.tabs.addTab(self._energycap_tab(), "&EnergyCAP")
        self.forms: list[DataclassForm] = []
        self._add_form_tab("listener", "&Listener", "The push listener is not part of this build.")
        self._add_form_tab("energycap", "&Delivery", "", skip=("url", "api", "time_label"))
        self._add_form_tab("journal", "&Journal", "The journal is not part of this build.")
        self.tabs.addTab(self._app_tab(), "&App")
        buttons = ButtonRow()
        buttons.add_standard(Standard.Ok, self.accept, "Save settings")
        buttons.add_standard(Standard.Cancel, self.reject, "Cancel")
        self.message = QLabel("")
        self.message.setAccessibleName("Settings problems")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    # --- EnergyCAP -------------------------------------------------------------
    def _energycap_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        settings = self.context.settings.energycap
        self.host = QComboBox()
        self.host.addItems([*HOST_PRESETS, CUSTOM])
        self.custom_url = QLineEdit()
        self.custom_url.setPlaceholderText("https://your-host.energycap.com")
        self._select_host(settings.url)
        self.host.currentTextChanged.connect(self._on_host_changed)
        self._on_host_changed(self.host.currentText())
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        saved = bool(self.context.secrets.get(API_KEY_SECRET))
        self.key.setPlaceholderText("saved in the keyring (type to replace)" if saved else "")
        self.api = QComboBox()
        self.api.addItems(["readings", "esa", "import"])
        self.api.setCurrentText(settings.api)
        self.time_label = QComboBox()
        self.time_label.addItems(["end", "start"])
        self.time_label.setCurrentText(settings.time_label)
        self.test = QPushButton("Te&st connection")
        self.test.clicked.connect(self._on_test_clicked)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.hide()  # its row takes no room until there is a result
        self.details = QPushButton("Deta&ils…")
        self.details.setAccessibleName("Details of the test result")
        self.details.clicked.connect(self._on_details_clicked)
        self.details.hide()
        self.detail_text = ""
        secure = self.context.secrets.available
        self.keyring = QLabel(keyring_words() if secure else no_keyring_help())
        self.keyring.setWordWrap(True)
        self.keyring.setToolTip(self.context.secrets.backend_description())  # the technical name
        if not secure:
            self.keyring.setStyleSheet("color: #d03a2f; font-weight: bold;")
            self.key.setEnabled(False)
            self.key.setPlaceholderText("cannot be saved safely on this PC: see below")
        for label, widget, name in (
            ("&Host:", self.host, "EnergyCAP host"),
            ("Add&ress:", self.custom_url, "Custom EnergyCAP address"),
            ("API &key:", self.key, "EnergyCAP API key"),
            ("A&PI:", self.api, "EnergyCAP API"),
            ("Reading &times mark:", self.time_label, "Reading times mark"),
            ("Secrets:", self.keyring, "Keyring backend"),
        ):
            widget.setAccessibleName(name)
            caption = QLabel(label)
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        self.test.setAccessibleName("Test connection")
        self.result.setAccessibleName("Connection test result")
        row = QHBoxLayout()
        row.addWidget(self.test)
        row.addStretch(1)
        row.addWidget(self.details)
        form.insertRow(5, "", row)
        # On a row of its own: a two-line result gets its height (beside the button it was
        # centred on the button's height and its first line cut off).
        form.insertRow(6, "", self.result)
        return page

    def _select_host(self, url: str) -> None:
        for name, preset in HOST_PRESETS.items():
            if url.rstrip("/") == preset:
                self.host.setCurrentText(name)
                return
        if url:
            self.host.setCurrentText(CUSTOM)
            self.custom_url.setText(url)

    def _on_host_changed(self, text: str) -> None:
        self.custom_url.setEnabled(text == CUSTOM)
        if text != CUSTOM:
            self.custom_url.setText(HOST_PRESETS[text])

    def chosen_url(self) -> str:
        """The EnergyCAP address chosen."""
        return self.custom_url.text().strip()

    def chosen_key(self) -> str:
        """The key typed, else the saved one."""
        return self.key.text().strip() or (self.context.secrets.get(API_KEY_SECRET) or "")

    def _on_test_clicked(self) -> None:
        self.result.setText("Testing…")
        self.result.show()
        self.test.setEnabled(False)
        worker = energycap_test_worker(self.chosen_url(), self.chosen_key())
        worker.signals.succeeded.connect(self._show_result)
        worker.signals.failed.connect(self._show_result)
        worker.signals.finished.connect(lambda: self.test.setEnabled(True))
        self.details.hide()
        self.worker = start(worker)

    def _show_result(self, result: str | BaseException) -> None:
        """One plain sentence; the technical detail behind Details…"""
        plain, self.detail_text = split_details(str(result))
        self.result.setText(plain)
        self.result.setVisible(bool(plain))
        self.details.setVisible(bool(self.detail_text))

    def _on_details_clicked(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Details", self.result.text(), parent=self)
        box.setDetailedText(self.detail_text)
        box.open()
        self._details_box = box

    # --- other sections -------------------------------------------------------------
    def _add_form_tab(self, section: str, title: str, missing: str, skip: tuple[str, ...] = ()):
        obj = getattr(self.context.settings, section, None)
        if obj is None:
            label = QLabel(missing)
            label.setAccessibleName(f"{title.replace('&', '')} unavailable")
            self.tabs.addTab(label, title)
            return
        form = DataclassForm(obj, skip=skip)
        self.forms.append(form)
        self.tabs.addTab(form, title)

    def _app_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        prefs = self.context.prefs
        self.theme = QComboBox()
        self.theme.addItems(list(THEMES))
        self.theme.setCurrentText(prefs.theme)
        self.theme.setAccessibleName("Theme")
        self.theme.setToolTip("system follows Windows' light/dark setting")
        caption = QLabel("T&heme:")
        caption.setBuddy(self.theme)
        form.addRow(caption, self.theme)
        self.prefs_boxes: dict[str, QCheckBox] = {}
        for name, text in (
            ("close_to_tray", "&Keep running in the tray when the window closes"),
            ("start_with_os", "&Start meterbridge when I log in"),
            ("notify_failures", "&Notify me of failures and needed actions"),
        ):
            box = QCheckBox(text)
            box.setChecked(bool(getattr(prefs, name)))
            box.setAccessibleName(text.replace("&", ""))
            form.addRow("", box)
            self.prefs_boxes[name] = box
        return page

    # --- saving -------------------------------------------------------------------------
    def problem(self) -> str | None:
        """What stops saving, in plain words."""
        return v.check_url(self.chosen_url(), https_only=False) if self.chosen_url() else None

    def accept(self) -> None:
        """Save settings (key to the keyring); stay open and say why if that fails."""
        message = self.problem()
        if message is None:
            message = self._store_key()
        if message is not None:
            self.message.setText(message)
            self.tabs.setCurrentIndex(0)
            return
        self._apply()
        super().accept()

    def _store_key(self) -> str | None:
        typed = self.key.text().strip()
        if not typed:
            return None
        try:
            self.context.secrets.set(API_KEY_SECRET, typed)
        except NoKeyringError as exc:
            log.warning("API key not saved: %s", exc)  # the technical reason, for the log
            return no_keyring_help()
        return None

    def _apply(self) -> None:
        ecap = self.context.settings.energycap
        ecap.url, ecap.api = self.chosen_url(), self.api.currentText()
        ecap.time_label = self.time_label.currentText()
        for form in self.forms:
            form.apply()
        listener = getattr(self.context.settings, "listener", None)
        if listener is not None:  # the tick alone turns listening on the network on or off
            settle_listen_address(listener)
        prefs = self.context.prefs
        prefs.theme = self.theme.currentText()
        for name, box in self.prefs_boxes.items():
            setattr(prefs, name, box.isChecked())
        try:
            set_autostart(prefs.start_with_os)
            self.context.save()
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "meterbridge", f"Settings could not be saved: {exc}")
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, prefs.theme)


def settle_listen_address(listener: Any) -> None:
    """Make the listen address agree with "Accept pushes from the network" (the tick).

    Ticked with a loopback address: every interface; unticked with a network
    address: this PC only. An address the user chose that already agrees is kept.
    """
    if listener.allow_lan and is_loopback(listener.host):
        listener.host = "0.0.0.0"  # every interface, as the device wizard's tick does
    elif not listener.allow_lan and not is_loopback(listener.host):
        listener.host = "127.0.0.1"
