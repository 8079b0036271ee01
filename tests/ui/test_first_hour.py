"""A facility manager's first hour, through the window as they use it, against a fake EnergyCAP.

Connect (the checklist's Set up…) → drop a real file → preview → map one source → send →
delivered; a wrong key then shows on the file's row and in the status bar, and fixing it
delivers at once. A push device: wizard → test push → a real push → received, live.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.cli.gui.services import GuiServices
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.mapping.editor import COLUMN, MappingEditor
from app.ui.settings.dialog import CUSTOM, SettingsDialog
from app.ui.window.main_window import MainWindow
from app.ui.wizards.source_wizard import MAPPING, SCHEDULE, SOURCE, SUMMARY, TEST
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.energycap_model import FakeChannel
from tests.fakes.fixtures import API_KEY
from tests.ports import free_port

DATA = Path(__file__).resolve().parents[1] / "data" / "hh"
SCHOOL_1, SCHOOL_2, IMSERV_METER = "2200012767323", "2200012833358", "10545307"


def _started(qtbot: QtBot, context: AppContext) -> tuple[MainWindow, GuiServices]:
    context.settings.listener.port = free_port()
    context.save()
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    services = GuiServices(context.paths, context.secrets)
    window.attach_services(services)
    return window, services


def _row(window: MainWindow, name: str) -> dict[str, str]:
    """The dashboard row of `name` by column title (refreshed first)."""
    table = window.sources.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    for r in range(table.rowCount()):
        if table.item(r, 0).data(Qt.ItemDataRole.UserRole) == name:  # the source's own name
            return {h: table.item(r, c).text() for c, h in enumerate(headers)}
    return {}


def _until_row(qtbot: QtBot, window: MainWindow, name: str, test, timeout: int = 30_000) -> None:
    def check() -> bool:
        window.refresh()
        return bool(test(_row(window, name)))

    qtbot.waitUntil(check, timeout=timeout)


def _connect(qtbot: QtBot, window: MainWindow, url: str, key: str) -> None:
    """Getting started → Set up…: the host and key, saved; the services restart."""
    window.sources.checklist.setup_button.click()
    dialog = next(d for d in window.actions_.dialogs if isinstance(d, SettingsDialog))
    dialog.host.setCurrentText(CUSTOM)
    dialog.custom_url.setText(url)
    dialog.key.setText(key)
    dialog.accept()
    qtbot.waitUntil(lambda: "Delivering to" in window.services_label.text(), timeout=20_000)


def _preview(qtbot: QtBot, window: MainWindow, name: str):
    with qtbot.waitSignal(window.preview_opened) as opened:
        window.open_path(DATA / name)
    preview = opened.args[0]
    qtbot.addWidget(preview)
    if preview.data is None:
        qtbot.waitSignal(preview.loaded, timeout=30_000).wait()
    return preview


def test_connect_drop_map_send_break_the_key_and_fix_it(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap
) -> None:
    energycap.add_meter(1, "SCHOOL-1", [FakeChannel(11, "SCHOOL1-HH", "Use", "kWh", 1800)])
    energycap.add_meter(2, SCHOOL_2, [FakeChannel(21, "S2", "Use", "kWh", 1800)])
    energycap.add_meter(3, IMSERV_METER, [FakeChannel(31, "IM", "Use", "kWh", 1800)])
    window, services = _started(qtbot, context)
    try:
        # First start: the checklist says what to do; nothing is ticked.
        window.refresh()
        qtbot.waitUntil(lambda: window.sources.checklist.isVisible())
        assert window.sources.checklist.done == (False, False)
        assert "Not connected to EnergyCAP" in window.connection_label.text()
        _connect(qtbot, window, energycap.url, API_KEY)
        # A real file, previewed: layout and zone said, one source mapped to a channel.
        preview = _preview(qtbot, window, "banes.csv")
        assert preview.read_with.text() == "Layout: BANES · times: Europe/London"
        assert preview.map_button.isVisible()
        with qtbot.waitSignal(preview.loaded, timeout=30_000):
            preview.map_button.click()
            editor = next(d for d in window.actions_.dialogs if isinstance(d, MappingEditor))
            row = next(r for r in range(editor.table.rowCount())
                       if editor.table.item(r, 0).text() == SCHOOL_1)  # fmt: skip
            editor.table.item(row, COLUMN["channel_import_id"]).setText("SCHOOL1-HH")
            assert editor.save()  # no file dialog; the other row keeps the default
        assert Path(context.settings.mapping_file).parent == context.paths.config_dir
        preview.send_button.click()
        qtbot.waitUntil(lambda: "Queued" in preview.message.text(), timeout=10_000)
        qtbot.waitUntil(lambda: len(energycap.readings_for(11)) == 48, timeout=30_000)
        qtbot.waitUntil(lambda: len(energycap.readings_for(21)) == 48, timeout=30_000)
        _until_row(qtbot, window, "uk-hh", lambda r: r.get("State") == "up to date")
        assert _row(window, "uk-hh")["Source"].endswith("(files sent)")  # not the connector id
        assert not window.sources.checklist.isVisible()  # both steps done
        # The key stops working: the next file's row says so, in red, and the status bar.
        context.secrets.set(API_KEY_SECRET, "an-expired-key")
        window.restart_services()
        qtbot.waitUntil(lambda: "Delivering to" in window.services_label.text(), timeout=20_000)
        _preview(qtbot, window, "imserv.csv").send_button.click()
        _until_row(qtbot, window, "uk-hh", lambda r: r.get("State") == "delivery paused")
        row = _row(window, "uk-hh")
        assert row["Pending"] == "48"
        assert row["Last error"].startswith("Delivery paused: EnergyCAP refused the API key.")
        assert "refused the API key" in window.connection_label.text()
        # Said once in the banner, the client's own words behind Details…
        assert window.banner.label.text() == row["Last error"]
        assert window.banner.details_button.isVisible() and window.banner.details
        # Fixed in Settings: delivered at once, and the stale error goes.
        _connect(qtbot, window, energycap.url, API_KEY)
        qtbot.waitUntil(lambda: len(energycap.readings_for(31)) == 48, timeout=30_000)
        _until_row(qtbot, window, "uk-hh", lambda r: r.get("State") == "up to date")
        assert _row(window, "uk-hh")["Last error"] == ""
        assert "refused" not in window.connection_label.text()
        assert not window.banner.isVisible()  # the pause it told of is over
    finally:
        services.stop()


def _push(url: str, token: str, points: list[dict[str, object]]) -> int:
    request = urllib.request.Request(url, data=json.dumps(points).encode(), method="POST")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def test_a_device_wizard_test_push_then_the_first_push_shows_live(
    qtbot: QtBot, context: AppContext
) -> None:
    window, services = _started(qtbot, context)
    try:
        wizard = window.actions_.open_wizard("episensor")
        qtbot.addWidget(wizard)
        wizard.page(SOURCE).name.setText("plant-room")
        wizard.next()
        assert wizard.currentId() == TEST
        page = wizard.page(TEST)
        url = page.url.text()
        assert url == f"http://127.0.0.1:{context.settings.listener.port}/push/plant-room"
        assert "Only this PC can push" in page.others.text()
        assert page.status.label.text() == "Waiting for the first push…"
        page.status.test_button.click()
        label = page.status.label
        qtbot.waitUntil(lambda: "✓ The test push arrived" in label.text(), timeout=15_000)
        times = (("2026-06-01T10:00:00Z", 100.0), ("2026-06-01T10:30:00Z", 101.5))
        points = [{"exportId": "000D6F0001A303D4_333", "timestamp": t, "value": v}
                  for t, v in times]  # fmt: skip
        assert _push(url, page.token.text(), points) == 200
        qtbot.waitUntil(lambda: "✓ received 2 readings at" in label.text(), timeout=5_000)
        wizard.next()
        assert wizard.currentId() == MAPPING
        wizard.next()
        assert wizard.currentId() == SUMMARY  # a push device has no schedule page
        assert SCHEDULE not in wizard.visitedIds()
        summary = wizard.page(SUMMARY)
        assert summary.first_push.isVisible()
        assert "✓ received 2 readings" in summary.first_push.label.text()
        assert "Runs:" not in summary.summary_text()
        with qtbot.waitSignal(wizard.source_saved):
            wizard.accept()
        # On the dashboard: its readings arrived, and wait on this PC (no EnergyCAP connection).
        _until_row(qtbot, window, "push:plant-room", lambda r: r.get("Pending") == "1")
        row = _row(window, "push:plant-room")
        assert row["State"] == "kept on this PC (not connected)" and row["Latest reading"] != "—"
        assert row["Next run / push"].startswith("✓ received 2 readings at ")
    finally:
        services.stop()


def test_new_settings_run_the_jobs_that_failed_at_once(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from app.core.pulls.jobs import JobOutcome, JobStore
    from app.core.sources.records import SourceSetup
    from app.core.sources.setup import save_source

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    save_source(SourceSetup(kind="uk-hh", name="HH inbox", connector="uk-hh",
                            settings={"folder": str(inbox), "tz": "Europe/London"}),
                context.paths, context.secrets)  # fmt: skip
    store = JobStore(context.jobs_file)
    then = datetime(2026, 1, 1, tzinfo=UTC)
    store.record_run("HH inbox", then, then,
                     JobOutcome(ok=False, message="EnergyCAP refused the API key"))  # fmt: skip
    window, services = _started(qtbot, context)
    try:
        assert services.rerun_failed_jobs() == ["HH inbox"]  # what Settings' OK does
        qtbot.waitUntil(lambda: store.get("HH inbox").last_status == "ok", timeout=30_000)
        _until_row(qtbot, window, "HH inbox", lambda r: r.get("Last error") == "")
    finally:
        services.stop()
