"""Each setup wizard, walked by keyboard only: typed fields, Enter for Next and Finish."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.core.pulls.jobs import JobStore
from app.core.pulls.sftp.poll import SftpConfig
from app.core.pulls.verdigris_pull import VerdigrisConfig
from app.ui.context import AppContext
from app.ui.wizards.push.push_test_page import device_registry
from app.ui.wizards.source_wizard import SOURCE, SUMMARY, TEST, SourceWizard
from tests.fakes.memory_keyring import MemoryKeyring
from tests.fakes.sftp_server import AsyncSshServer, make_client_key


def _wizard(qtbot: QtBot, context: AppContext, kind: str | None) -> SourceWizard:
    wizard = SourceWizard(context, kind)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    return wizard


def _type(qtbot: QtBot, widget: QWidget, text: str) -> None:
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def _enter(qtbot: QtBot, wizard: SourceWizard) -> int:
    """Press Enter (the default button: Next, or Finish on the last page)."""
    qtbot.keyClick(wizard, Qt.Key.Key_Return)
    return wizard.currentId()


def _finish(qtbot: QtBot, wizard: SourceWizard) -> dict:
    while wizard.currentId() != SUMMARY:
        before = wizard.currentId()
        assert _enter(qtbot, wizard) != before, wizard.currentPage().error.text()
    with qtbot.waitSignal(wizard.source_saved) as saved:
        _enter(qtbot, wizard)
    setup = saved.args[0]
    stored = json.loads((wizard.context.paths.config_dir / "sources.json").read_text("utf-8"))
    assert setup.name in [s["name"] for s in stored]
    return next(s for s in stored if s["name"] == setup.name)


def test_episensor_by_keyboard_gives_push_url_and_token(
    qtbot: QtBot, context: AppContext, memory_keyring: MemoryKeyring
) -> None:
    wizard = _wizard(qtbot, context, "episensor")
    _type(qtbot, wizard.page(SOURCE).name, "head-office")
    assert _enter(qtbot, wizard) == TEST
    page = wizard.page(TEST)
    assert page.url.text() == "http://127.0.0.1:8765/push/head-office"
    token = page.token.text()
    saved = _finish(qtbot, wizard)
    assert saved["kind"] == "episensor" and saved["settings"]["tz"] == "Europe/London"
    registry = device_registry(context)
    device = registry.get("head-office")
    assert device.connector == "episensor" and device.tz == "Europe/London"
    assert registry.owner_of(token) == "head-office"
    assert memory_keyring.store[("meterbridge", "device-token:head-office")] == token
    assert token not in json.dumps(saved)
    assert token not in (context.paths.config_dir / "devices.json").read_text("utf-8")


def test_cancel_forgets_the_device_the_wizard_registered(qtbot: QtBot, context: AppContext) -> None:
    wizard = _wizard(qtbot, context, "episensor")
    _type(qtbot, wizard.page(SOURCE).name, "lab-gateway")
    assert _enter(qtbot, wizard) == TEST
    assert device_registry(context).find("lab-gateway") is not None
    wizard.reject()
    assert device_registry(context).find("lab-gateway") is None


def test_a_device_name_with_spaces_is_refused(qtbot: QtBot, context: AppContext) -> None:
    wizard = _wizard(qtbot, context, "episensor")
    _type(qtbot, wizard.page(SOURCE).name, "Head office")
    assert _enter(qtbot, wizard) == SOURCE
    assert "it goes in the URL" in wizard.page(SOURCE).error.text()


@pytest.mark.parametrize(
    ("kind", "serial"), [("acurev2100", "AR2100-77"), ("aculink810", "S8P221")]
)
def test_accuenergy_devices_need_a_serial(
    qtbot: QtBot, context: AppContext, kind: str, serial: str
) -> None:
    wizard = _wizard(qtbot, context, kind)
    assert _enter(qtbot, wizard) == SOURCE  # refused: no serial yet
    assert "serial" in wizard.page(SOURCE).error.text()
    _type(qtbot, wizard.page(SOURCE).serial, serial)
    assert _enter(qtbot, wizard) == TEST
    saved = _finish(qtbot, wizard)
    assert saved["kind"] == kind and saved["settings"]["serial"] == serial
    assert saved["settings"]["push_url"] == f"http://127.0.0.1:8765/push/{saved['name']}"
    assert device_registry(context).get(saved["name"]).connector == kind


def test_uk_files_from_a_local_folder_skip_the_connection_test(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    wizard = _wizard(qtbot, context, "uk-hh")
    _type(qtbot, wizard.page(SOURCE).folder, str(tmp_path))
    assert _enter(qtbot, wizard) != TEST
    saved = _finish(qtbot, wizard)
    assert saved["kind"] == "uk-hh" and saved["settings"]["folder"] == str(tmp_path)


def test_uk_sftp_pins_the_host_key_it_showed(
    qtbot: QtBot, context: AppContext, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    server = AsyncSshServer(tmp_path / "root", make_client_key(tmp_path))
    try:
        wizard = _wizard(qtbot, context, "uk-hh")
        source = wizard.page(SOURCE)
        source.mode.setFocus()
        qtbot.keyClick(source.mode, Qt.Key.Key_Down)
        assert source.sftp
        _type(qtbot, source.host, "127.0.0.1")
        _type(qtbot, source.port, str(server.port))
        _type(qtbot, source.user, "collector")
        _type(qtbot, source.password, "pa55word")
        assert _enter(qtbot, wizard) == TEST
        test = wizard.page(TEST)
        assert _enter(qtbot, wizard) == TEST  # no fingerprint accepted yet
        with qtbot.waitSignal(test.worker.signals.finished if test.worker else test.fetch.clicked):
            qtbot.keyClick(test.fetch, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: test.fingerprint.text() != "", timeout=20_000)
        assert test.fingerprint.text() == server.fingerprint
        test.accept_box.setFocus()
        qtbot.keyClick(test.accept_box, Qt.Key.Key_Space)
        saved = _finish(qtbot, wizard)
    finally:
        server.stop()
    assert saved["kind"] == "uk-hh-sftp"
    assert saved["settings"]["host_key_fingerprint"] == server.fingerprint
    assert memory_keyring.store[("meterbridge", "sftp-password:collector@127.0.0.1")] == "pa55word"
    job = JobStore(context.jobs_file).get("UK half-hourly")
    config = SftpConfig.from_dict(job.config)
    assert job.kind == "sftp" and config.host_key_fingerprint == server.fingerprint
    assert [(f.path, f.connector, f.options) for f in config.folders] == [
        ("/outgoing", "uk-hh", {"tz": "Europe/London"})
    ]


def test_verdigris_secret_goes_to_the_keyring_and_a_job_is_scheduled(
    qtbot: QtBot, context: AppContext, memory_keyring: MemoryKeyring
) -> None:
    wizard = _wizard(qtbot, context, "verdigris")
    page = wizard.page(SOURCE)
    _type(qtbot, page.client_id, "client-42")
    _type(qtbot, page.secret, "very-secret")
    _type(qtbot, page.ids, "1201, 1202")
    assert page.api_url.isHidden()  # under Advanced
    page.more.setChecked(True)
    assert not page.api_url.isHidden()
    page.api_url.setText("https://api.eu.verdigris.example")
    assert _enter(qtbot, wizard) == TEST
    saved = _finish(qtbot, wizard)
    assert saved["settings"]["ids"] == ["1201", "1202"]
    assert saved["settings"]["api_url"] == "https://api.eu.verdigris.example"
    assert "auth_url" not in saved["settings"]  # unchanged: Verdigris' own
    assert "very-secret" not in json.dumps(saved)
    assert (
        memory_keyring.store[("meterbridge", "verdigris-client-secret:client-42")] == "very-secret"
    )
    job = JobStore(context.jobs_file).get("Verdigris")
    assert job.kind == "verdigris" and job.interval.total_seconds() == 30 * 60
    config = VerdigrisConfig.from_dict(job.config)
    assert (config.client_id, config.circuits, config.kinds) == ("client-42", ["1201", "1202"],
                                                                 ["energy"])  # fmt: skip
    assert config.api_url == "https://api.eu.verdigris.example"


def test_generic_csv_after_choosing_the_kind_by_keyboard(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    wizard = _wizard(qtbot, context, None)
    kind_page = wizard.currentPage()
    kind_page.group.button(0).setFocus()
    for _ in range(5):  # EpiSensor → … → Generic, by arrow keys
        qtbot.keyClick(kind_page.group.checkedButton(), Qt.Key.Key_Down)
    assert kind_page.chosen() == "generic"
    assert _enter(qtbot, wizard) == SOURCE
    page = wizard.page(SOURCE)
    _type(qtbot, page.folder, str(tmp_path))
    _type(qtbot, page.id_column, "meter_id")
    saved = _finish(qtbot, wizard)
    assert saved["kind"] == "generic" and saved["settings"]["id_column"] == "meter_id"


def test_a_bad_name_is_refused_in_plain_words(qtbot: QtBot, context: AppContext) -> None:
    wizard = _wizard(qtbot, context, "generic")
    _type(qtbot, wizard.page(SOURCE).name, "bad/name!")
    assert _enter(qtbot, wizard) == SOURCE
    assert "Use letters, digits" in wizard.page(SOURCE).error.text()


def test_a_taken_name_is_refused_on_the_first_page_with_a_free_one_offered(
    qtbot: QtBot, context: AppContext
) -> None:
    from app.core.sources.records import SourceSetup
    from app.core.sources.setup import save_source

    taken = SourceSetup(kind="generic", name="EpiSensor", connector="generic",
                        settings={"folder": str(context.paths.data_dir), "tz": "UTC"})  # fmt: skip
    save_source(taken, context.paths, context.secrets)
    wizard = SourceWizard(context, "episensor")
    qtbot.addWidget(wizard)
    page = wizard.page(SOURCE)
    assert page.name.text() == "EpiSensor-2"  # the first guess is free
    page.name.setText("EpiSensor")
    wizard.show()
    wizard.next()
    assert wizard.currentId() == SOURCE  # refused here, not on the last page
    assert page.error.text() == "“EpiSensor” is the name of another source: try “EpiSensor-2”."


def test_generic_csv_starts_from_a_sample_file_and_tests_with_it(
    qtbot: QtBot, context: AppContext
) -> None:
    sample = (
        Path(__file__).resolve().parents[1] / "data" / "generic" / "uk_semicolon_decimal_comma.csv"
    )
    wizard = _wizard(qtbot, context, "generic")
    page = wizard.page(SOURCE)
    page.sample_path.setText(str(sample))
    page.load_sample()
    assert page.rows.rowCount() == 5 and page.rows.horizontalHeaderItem(0).text() == "MPAN"
    assert [page.id_column.currentText(), page.time_column.currentText(),
            page.value_column.currentText()] == ["MPAN", "Reading Date", "kWh"]  # fmt: skip
    assert page.id_column.count() == 5  # every column of the sample, to choose from
    assert page.delimiter.currentText() == "semicolon"
    assert page.decimal.currentText() == "comma (1,5)"
    assert page.folder.text() == str(sample.parent)
    page.time_format.setCurrentText("31.12.2025 23:30")
    page.test_sample()  # (a wait for its finished signal could connect after it came)
    qtbot.waitUntil(lambda: page.result.text() not in ("", "Reading…"), timeout=10_000)
    assert page.result.text().startswith("✓ 10 readings from 1 meter(s)")
    values = page.values()
    assert (values["time_format"], values["decimal"], values["delimiter"]) == (
        "%d.%m.%Y %H:%M",
        ",",
        ";",
    )


def test_uk_sftp_with_a_private_key_logs_in_and_lists_what_it_would_take(
    qtbot: QtBot, context: AppContext, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    root = tmp_path / "root"
    (root / "outgoing").mkdir(parents=True)
    for name in ("a.csv", "b.csv"):
        (root / "outgoing" / name).write_text("x\n", encoding="utf-8")
    key = make_client_key(tmp_path)
    server = AsyncSshServer(root, key)
    try:
        wizard = _wizard(qtbot, context, "uk-hh")
        source = wizard.page(SOURCE)
        source.mode.setCurrentIndex(1)
        source.host.setText("127.0.0.1")
        source.port.setValue(server.port)
        source.user.setText("collector")
        source.key_file.setText(str(key))  # no password: the key logs in
        assert _enter(qtbot, wizard) == TEST
        test = wizard.page(TEST)
        test.fetch.click()
        qtbot.waitUntil(lambda: test.fingerprint.text() == server.fingerprint, timeout=20_000)
        test.list_files()
        qtbot.waitUntil(lambda: test.listing.text() != "Logging in…", timeout=20_000)
        assert test.listing.text() == (
            "✓ Logged in to 127.0.0.1 as collector.\n"
            "/outgoing: 2 file(s) would be taken: a.csv, b.csv."
        )
        test.accept_box.setChecked(True)
        saved = _finish(qtbot, wizard)
    finally:
        server.stop()
    assert saved["settings"]["key_file"] == str(key)
    config = SftpConfig.from_dict(JobStore(context.jobs_file).get("UK half-hourly").config)
    assert config.key_file == str(key)
