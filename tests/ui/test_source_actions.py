"""The dashboard's source commands, by keyboard, over the real stores and services:
a watched folder run now into the fake EnergyCAP, pause/resume, edit, remove."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.cli.gui.services import GuiServices
from app.core.journal.store import Journal
from app.core.pulls.folder import FolderConfig
from app.core.pulls.jobs import JobStore
from app.core.sources.devices import DeviceRegistry
from app.core.sources.records import SourceSetup, find_source
from app.core.sources.setup import save_source
from app.ui.context import AppContext
from app.ui.window.main_window import MainWindow
from app.ui.wizards.push.device_edit_page import DeviceEditPage
from app.ui.wizards.source_wizard import SCHEDULE, SOURCE, SUMMARY, TEST, SourceWizard
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.memory_keyring import MemoryKeyring
from tests.ui.app_setup import connect_to_fake
from tests.ui.test_accessibility import unnamed_controls

USER = Qt.ItemDataRole.UserRole  # a dashboard row's source name


def _window(qtbot: QtBot, context: AppContext) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh()
    return window


def _select(qtbot: QtBot, window: MainWindow, name: str) -> None:
    """Select a source's row and give the table the keyboard focus."""
    table = window.sources.table
    qtbot.waitUntil(lambda: name in [table.item(r, 0).data(USER) for r in range(table.rowCount())])
    window.sources.select(name)
    table.setFocus()
    window.activateWindow()
    qtbot.waitUntil(table.hasFocus)


def _state(window: MainWindow, name: str) -> str:
    table = window.sources.table
    for row in range(table.rowCount()):
        if table.item(row, 0).data(USER) == name:
            return table.item(row, 2).text()
    return ""


def _folder_source(context: AppContext, folder: Path, name: str = "HH inbox") -> None:
    settings = {"folder": str(folder), "tz": "Europe/London", "archive": "imported"}
    save_source(SourceSetup(kind="uk-hh", name=name, connector="uk-hh", settings=settings),
                context.paths, context.secrets)  # fmt: skip


def test_run_now_pulls_a_watched_folder_off_the_gui_thread(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap, hh_samples: Path, tmp_path: Path
) -> None:
    connect_to_fake(context, energycap)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sample = hh_samples / "sheffield.csv"  # 96 kWh and 48 kVArh readings
    (inbox / sample.name).write_bytes(sample.read_bytes())
    old = time.time() - 600
    os.utime(inbox / sample.name, (old, old))
    _folder_source(context, inbox)
    JobStore(context.jobs_file).set_paused("HH inbox", True)  # only Run now may run it
    window = _window(qtbot, context)
    services = GuiServices(context.paths, context.secrets)
    window.attach_services(services)
    try:
        assert services.scheduling  # Run now goes to the scheduler thread, not a worker
        _select(qtbot, window, "HH inbox")
        assert window.sources.buttons_by_name["run"].isEnabled()
        qtbot.keyClick(window.sources.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        assert _state(window, "HH inbox") == "running now…"  # shown at once; the GUI is free
        qtbot.waitUntil(lambda: "HH inbox: ok" in window.banner.label.text(), timeout=60_000)
        assert "1 new files" in window.banner.label.text()
        qtbot.waitUntil(lambda: len(energycap.readings()) > 0, timeout=30_000)
    finally:
        services.stop()
    assert (inbox / "imported" / sample.name).exists()  # archived, not deleted
    job = JobStore(context.jobs_file).get("HH inbox")
    assert job.last_status == "ok" and job.paused
    journal = Journal(context.paths.journal_file)
    assert {s.source for s in journal.status()} == {"pull:HH inbox"}
    received = sum(journal.counts().values())
    journal.close()
    assert received == 144
    table = window.sources.table

    def counted() -> int:
        window.refresh()  # (a refresh asked while one runs is skipped: ask again)
        return int(table.item(0, 5).text()) + int(table.item(0, 6).text())

    # One line for the job: the journal's pull:HH inbox counts are folded into it.
    qtbot.waitUntil(lambda: counted() == received > 0, timeout=15_000)
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["HH inbox"]
    assert _state(window, "HH inbox") == "paused"


def test_pause_and_resume_by_keyboard_and_run_now_without_services(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    _folder_source(context, tmp_path)
    window = _window(qtbot, context)
    _select(qtbot, window, "HH inbox")
    pause = window.sources.buttons_by_name["pause"]
    assert pause.text() == "&Pause" and pause.accessibleName() == "Pause or resume the selected job"
    qtbot.keyClick(window.sources.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _state(window, "HH inbox") == "paused", timeout=10_000)
    assert JobStore(context.jobs_file).get("HH inbox").paused
    assert pause.text() == "Res&ume"
    qtbot.keyClick(window.sources.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not JobStore(context.jobs_file).get("HH inbox").paused)
    assert "resumed" in window.banner.label.text()
    # No background services (and no EnergyCAP): Run now still runs, on a worker.
    window.sources.buttons_by_name["run"].click()
    qtbot.waitUntil(lambda: "HH inbox: ok" in window.banner.label.text(), timeout=30_000)
    assert "0 new files" in window.banner.label.text()


def test_context_menu_offers_the_source_actions(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    _folder_source(context, tmp_path)
    window = _window(qtbot, context)
    _select(qtbot, window, "HH inbox")
    menu = window.sources.context_menu()
    texts = [a.text() for a in menu.actions()]
    assert texts == ["&Edit…", "Re&move…", "R&un now", "&Pause", "Pull a ran&ge…"]
    enabled = [a.isEnabled() for a in menu.actions()]
    assert enabled == [True, True, True, True, False]  # a range is pulled from Verdigris only
    assert menu.accessibleName() == "Source actions"
    assert unnamed_controls(window.sources) == []
    window.sources.table.clearSelection()  # nothing selected: nothing to act on
    assert not any(b.isEnabled() for b in window.sources.buttons_by_name.values())


def _wizard_from_edit(qtbot: QtBot, window: MainWindow) -> SourceWizard:
    qtbot.keyClick(window.sources.table, Qt.Key.Key_F2)
    wizard = next(d for d in window.actions_.dialogs if isinstance(d, SourceWizard))
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    return wizard


def _finish(qtbot: QtBot, wizard: SourceWizard) -> None:
    while wizard.currentId() != SUMMARY:
        before = wizard.currentId()
        qtbot.keyClick(wizard, Qt.Key.Key_Return)
        assert wizard.currentId() != before, wizard.currentPage().error.text()
    with qtbot.waitSignal(wizard.source_saved):
        qtbot.keyClick(wizard, Qt.Key.Key_Return)


def test_edit_opens_the_wizard_filled_in_and_saves_over_the_source(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    _folder_source(context, tmp_path)
    window = _window(qtbot, context)
    _select(qtbot, window, "HH inbox")
    wizard = _wizard_from_edit(qtbot, window)
    page = wizard.page(SOURCE)
    assert wizard.windowTitle() == "meterbridge — edit HH inbox"
    assert (page.name.text(), page.folder.text(), page.archive.text()) == (
        "HH inbox", str(tmp_path), "imported"
    )  # fmt: skip
    page.layout_box.setCurrentText("imserv")
    page.basis.setCurrentIndex(1)
    qtbot.keyClick(wizard, Qt.Key.Key_Return)  # to mapping
    qtbot.keyClick(wizard, Qt.Key.Key_Return)  # to schedule
    assert wizard.currentId() == SCHEDULE
    schedule = wizard.page(SCHEDULE)
    assert schedule.interval.value() == 30
    schedule.interval.setValue(15)
    _finish(qtbot, wizard)
    job = JobStore(context.jobs_file).get("HH inbox")
    assert job.interval.total_seconds() == 15 * 60
    assert FolderConfig.from_dict(job.config).options == {"tz": "UTC", "layout": "imserv"}
    records = json.loads((context.paths.config_dir / "sources.json").read_text("utf-8"))
    assert [r["name"] for r in records] == ["HH inbox"]
    qtbot.waitUntil(lambda: "“HH inbox” changed" in window.banner.label.text())


def test_editing_a_device_keeps_its_token_until_a_new_one_is_asked_for(
    qtbot: QtBot, context: AppContext, memory_keyring: MemoryKeyring
) -> None:
    registry = DeviceRegistry(context.paths.config_dir / "devices.json", None, context.secrets)
    token = registry.add("boiler-house", "episensor", "Europe/London")
    setup = SourceSetup(kind="episensor", name="boiler-house", connector="episensor",
                        settings={"tz": "Europe/London", "gateway": "GW-1"})  # fmt: skip
    save_source(setup, context.paths, context.secrets)
    window = _window(qtbot, context)
    _select(qtbot, window, "push:boiler-house")
    wizard = _wizard_from_edit(qtbot, window)
    source = wizard.page(SOURCE)
    assert source.name.isReadOnly() and source.gateway.text() == "GW-1"
    source.tz.setCurrentText("UTC")
    qtbot.keyClick(wizard, Qt.Key.Key_Return)
    assert wizard.currentId() == TEST
    page = wizard.page(TEST)
    assert isinstance(page, DeviceEditPage) and page.token.text() == token
    assert unnamed_controls(page) == [] and unnamed_controls(wizard.page(SOURCE)) == []
    _finish(qtbot, wizard)
    again = DeviceRegistry(context.paths.config_dir / "devices.json", None, context.secrets)
    assert again.owner_of(token) == "boiler-house" and again.get("boiler-house").tz == "UTC"
    # Asked for: a new token replaces the old one at once.
    _select(qtbot, window, "push:boiler-house")
    wizard = _wizard_from_edit(qtbot, window)
    qtbot.keyClick(wizard, Qt.Key.Key_Return)
    page = wizard.page(TEST)
    page.renew.setFocus()
    qtbot.keyClick(page.renew, Qt.Key.Key_Space)
    new = page.token.text()
    assert new != token and "old one no longer works" in page.note.text()
    wizard.reject()
    again = DeviceRegistry(context.paths.config_dir / "devices.json", None, context.secrets)
    assert again.owner_of(new) == "boiler-house" and again.owner_of(token) is None


def _removal_box(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    """Press Delete on the selected row and wait for the confirmation."""
    qtbot.keyClick(window.sources.table, Qt.Key.Key_Delete)
    actions = window.actions_.sources
    qtbot.waitUntil(lambda: actions.box is not None and actions.box.isVisible(), timeout=10_000)
    assert actions.box is not None
    return actions.box


def test_remove_names_what_goes_and_keeps_the_readings(
    qtbot: QtBot, context: AppContext, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    settings = {"host": "sftp.example", "port": 22, "user": "hh", "folders": ["/out"],
                "tz": "Europe/London"}  # fmt: skip
    setup = SourceSetup(kind="uk-hh-sftp", name="Collector", connector="uk-hh", settings=settings)
    save_source(setup, context.paths, context.secrets, {"password": "pw"})
    from connectors.base import make_readings

    journal = Journal(context.paths.journal_file)
    journal.accept(make_readings(source_id="M1", time=["2026-11-01T00:30Z"], value=[1.0],
                                 interval_s=1800), source="pull:Collector")  # fmt: skip
    journal.close()
    window = _window(qtbot, context)
    _select(qtbot, window, "Collector")
    box = _removal_box(qtbot, window)
    assert unnamed_controls(box) == []
    text = box.informativeText()
    assert "sources.json" in text and "scheduled job “Collector”" in text
    assert "sftp-password:hh@sftp.example" in text and "stay in the journal" in text
    qtbot.keyClick(box, Qt.Key.Key_Escape)  # Cancel: nothing goes
    qtbot.waitUntil(lambda: not box.isVisible())
    assert find_source("Collector", context.paths) is not None
    _select(qtbot, window, "Collector")  # back on the row (the dialog had the focus)
    box = _removal_box(qtbot, window)
    remove = next(b for b in box.buttons() if b.accessibleName() == "Remove")
    remove.click()
    qtbot.waitUntil(lambda: "Removed “Collector”" in window.banner.label.text(), timeout=10_000)
    assert find_source("Collector", context.paths) is None
    assert JobStore(context.jobs_file).list() == []
    assert memory_keyring.store.get(("meterbridge", "sftp-password:hh@sftp.example")) is None
    journal = Journal(context.paths.journal_file)
    assert journal.counts()["pending"] == 1  # the readings stay
    journal.close()


def test_edit_fills_other_kinds_pages_from_their_saved_settings(
    qtbot: QtBot, context: AppContext, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    generic = SourceSetup(kind="generic", name="BMS", connector="generic", settings={
        "folder": str(tmp_path), "id_column": "meter", "time_column": "at", "value_column": "kwh",
        "quantity": "kVArh", "time_format": "%d/%m/%Y %H:%M", "tz": "America/Chicago",
        "delimiter": "\t"}, interval_minutes=45)  # fmt: skip
    wizard = SourceWizard(context, editing=generic)
    qtbot.addWidget(wizard)
    page = wizard.page(SOURCE)
    assert (page.name.text(), page.id_column.currentText(), page.quantity.currentText(),
            page.tz.currentText(), page.delimiter.currentText()) == (
        "BMS", "meter", "kVArh", "America/Chicago", "tab")  # fmt: skip
    assert wizard.setup().settings == generic.settings
    assert wizard.page(SCHEDULE).interval.value() == 45
    context.secrets.set("verdigris-client-secret:c-1", "kept-secret")
    vg = SourceSetup(
        kind="verdigris",
        name="Campus",
        connector="verdigris",
        settings={
            "client_id": "c-1",
            "ids": ["1201", "1202"],
            "measure": "power",
            "interval": "1h",
        },
    )
    wizard = SourceWizard(context, editing=vg)
    qtbot.addWidget(wizard)
    page = wizard.page(SOURCE)
    assert (page.client_id.text(), page.secret.text(), page.ids.text()) == (
        "c-1", "kept-secret", "1201, 1202")  # fmt: skip
    assert page.what.currentText() == "power (kW)" and page.interval.currentText() == "1h"


def test_editing_an_sftp_source_on_another_server_asks_for_its_key_again(
    qtbot: QtBot, context: AppContext, memory_keyring: MemoryKeyring
) -> None:
    settings = {"host": "sftp.example", "port": 22, "user": "hh", "folders": ["/out"],
                "tz": "Europe/London", "host_key_fingerprint": "SHA256:" + "B" * 43}  # fmt: skip
    setup = SourceSetup(kind="uk-hh-sftp", name="Collector", connector="uk-hh", settings=settings)
    save_source(setup, context.paths, context.secrets, {"password": "pw"})
    wizard = SourceWizard(context, editing=setup)
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.page(SOURCE)
    assert page.sftp and page.host.text() == "sftp.example" and page.password.text() == ""
    wizard.next()
    test = wizard.page(TEST)
    assert wizard.currentId() == TEST and test.accept_box.isChecked()
    assert test.fingerprint.text() == settings["host_key_fingerprint"]
    wizard.back()
    page.host.setText("sftp2.example")
    wizard.next()
    assert test.fingerprint.text() == "" and not test.accept_box.isChecked()


def test_only_configured_sources_offer_actions(qtbot: QtBot) -> None:
    from app.ui.snapshot import Snapshot, SourceRow
    from app.ui.window.panels import SourcesPanel

    panel = SourcesPanel()
    qtbot.addWidget(panel)
    rows = [
        SourceRow("manual-upload", "file", "up to date", delivered=5),  # sent from a file
        SourceRow("pull:removed-job", "pull", "up to date", delivered=3),  # its job is gone
        SourceRow("push:gone-device", "push", "sending", pending=2),  # device removed
        SourceRow("push:boiler", "episensor", "waiting for first push", next_run="on push"),
        SourceRow("inbox", "folder", "paused", next_run="paused"),
        SourceRow("pull:inbox", "pull", "sending", pending=4, delivered=6),
    ]
    panel.show_snapshot(Snapshot(sources=rows))
    names = [panel.table.item(r, 0).data(USER) for r in range(panel.table.rowCount())]
    shown = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert "boiler (device)" in shown and "removed-job (pulled)" in shown  # no prefixes shown
    assert "pull:inbox" not in names and "pull:removed-job" in names
    enabled = {}
    for name in names:
        panel.select(name)
        enabled[name] = {k for k, b in panel.buttons_by_name.items() if b.isEnabled()}
    assert enabled["manual-upload"] == enabled["pull:removed-job"] == set()
    assert enabled["push:gone-device"] == set()
    assert enabled["push:boiler"] == {"edit", "remove"}
    assert enabled["inbox"] == {"edit", "remove", "run", "pause"}
    inbox = panel.rows[names.index("inbox")]
    assert (inbox.state, inbox.pending, inbox.delivered) == ("paused", 4, 6)
    panel.select("inbox")
    assert panel.buttons_by_name["pause"].text() == "Res&ume"
