"""The main window over a real journal and job store: dashboard, activity, dead letters, log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from pytestqt.qtbot import QtBot

from app.core.delivery.engine import deliver_pending
from app.core.energycap.client import EnergyCapClient, RetryPolicy
from app.core.journal.store import Journal
from app.core.mapping import MappingTable
from app.core.pulls.jobs import JobOutcome, JobStore
from app.core.settings import EnergyCapSettings
from app.ui.context import AppContext
from app.ui.window.log_viewer import setup_logging
from app.ui.window.main_window import MainWindow
from connectors.base import make_readings
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.energycap_model import FakeChannel


def _readings(source_id: str, n: int) -> pd.DataFrame:
    times = pd.date_range("2026-03-29 00:30", periods=n, freq="30min", tz="Europe/London")
    return make_readings(source_id=source_id, time=times, value=range(n), interval_s=1800)


def _window(qtbot: QtBot, context: AppContext) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    return window


def test_title_and_empty_dashboard(qtbot: QtBot, context: AppContext) -> None:
    window = _window(qtbot, context)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000) as shown:
        window.refresh()
    assert window.windowTitle().startswith("meterbridge")
    assert shown.args[0].sources == []
    assert not window.sources.hint.isHidden()
    assert "No sources yet" in window.sources.hint.text()
    assert not window.activity.hint.isHidden()


def _deliver(context: AppContext, energycap: FakeEnergyCap, accepted: dict[str, pd.DataFrame]):
    """Journal readings and deliver them to the fake EnergyCAP (unknown meters are refused)."""
    energycap.unknown_meter_policy = "fail"
    journal = Journal(context.paths.journal_file)
    for source, readings in accepted.items():
        journal.accept(readings, source=source)
    client = EnergyCapClient(energycap.url, "test-key", retry=RetryPolicy(max_attempts=1))
    report = deliver_pending(journal, client, EnergyCapSettings(url=energycap.url), MappingTable())
    journal.close()
    return report


def test_dashboard_shows_sources_counts_and_dead_letters(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap
) -> None:
    energycap.add_meter(1, "MPAN-OK", [FakeChannel(11, "C11", "Use", "kWh", 1800)])
    report = _deliver(
        context, energycap, {"site-a": _readings("MPAN1", 3), "site-ok": _readings("MPAN-OK", 7)}
    )
    assert (report.confirmed, report.rejected) == (7, 3)
    store = JobStore(context.jobs_file)
    now = datetime.now(UTC)
    store.save("verdigris-campus", "verdigris", {"ids": ["1"]}, timedelta(minutes=15), now)
    outcome = JobOutcome(ok=False, message="Verdigris refused the client secret")
    store.record_run("verdigris-campus", now, now, outcome)
    window = _window(qtbot, context)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh()
    table = window.sources.table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert set(rows) == {"site-a", "site-ok", "verdigris-campus"}
    a, ok = rows["site-a"], rows["site-ok"]
    assert [table.item(a, c).text() for c in (5, 6, 7)] == ["0", "0", "3"]
    assert [table.item(ok, c).text() for c in (2, 5, 6, 7)] == ["up to date", "0", "7", "0"]
    assert table.item(a, 2).text() == "needs attention"
    assert table.item(a, 8).text().startswith("EnergyCAP refused 3 reading(s)")
    v = rows["verdigris-campus"]
    assert table.item(v, 2).text() == "failed"
    assert table.item(v, 8).text() == "Verdigris refused the client secret"
    dead = window.dead.table  # one row per source and reason, with the count and the meters
    assert dead.rowCount() == 1
    assert [dead.item(0, c).text() for c in (0, 2, 5)] == ["site-a", "3", "MPAN1"]
    assert table.item(a, 7).background().color().name() == "#ffa000"  # refused: amber
    assert window.tabs.tabText(2).endswith("(3)")
    receipts = window.activity.table
    assert receipts.rowCount() >= 1
    assert {receipts.item(r, 2).text() for r in range(receipts.rowCount())} == {"readings"}


def test_replay_requeues_dead_letters(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap
) -> None:
    assert _deliver(context, energycap, {"site-b": _readings("MPAN2", 4)}).rejected == 4
    window = _window(qtbot, context)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh()
    window.dead.fix_button.click()  # the mapping editor, with the refused meter filled in
    editor = window.actions_.dialogs[-1]
    assert [editor.table.item(r, 0).text() for r in range(editor.table.rowCount())] == ["MPAN2"]
    assert "1 refused meter(s) added" in editor.status.text()
    editor.guard.dirty = False  # leave without saving
    editor.close()
    window.dead.table.selectRow(0)
    window.dead.replay_button.click()
    qtbot.waitUntil(lambda: "4 refused reading(s) queued again" in window.banner.label.text())
    window.refresh_timer.timeout.emit()
    qtbot.waitUntil(lambda: window.dead.table.rowCount() == 0, timeout=10_000)
    journal = Journal(context.paths.journal_file)
    assert journal.counts()["pending"] == 4
    journal.close()


def test_log_viewer_shows_the_log_file(qtbot: QtBot, context: AppContext) -> None:
    path = setup_logging(context.paths.log_dir)
    logging.getLogger("app.test").warning("delivery to EnergyCAP failed: host unreachable")
    logging.getLogger("app.test").info("a routine line")
    window = _window(qtbot, context)
    window.tabs.setCurrentWidget(window.log_viewer)
    window.log_viewer.level.setCurrentText("WARNING")
    text = window.log_viewer.text.toPlainText()
    assert "host unreachable" in text
    assert "a routine line" not in text
    assert window.log_viewer.path == path


def test_last_error_is_in_plain_words_with_energycaps_behind_details(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap
) -> None:
    refused = {"site-c": pd.concat([_readings("MPAN-X", 2), _readings("MPAN-Y", 2)])}
    assert _deliver(context, energycap, refused).rejected == 4
    store = JobStore(context.jobs_file)
    now = datetime.now(UTC)
    store.save("sftp-inbox", "sftp", {}, timedelta(minutes=30), now)
    store.record_run("sftp-inbox", now, now, JobOutcome(ok=True, message="waiting for a file"))
    window = _window(qtbot, context)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh()
    table = window.sources.table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    said = table.item(rows["site-c"], 8).text()
    assert said == (
        "EnergyCAP refused 4 reading(s): it has no meters with the import ids MPAN-X, MPAN-Y. "
        "Map them (Mapping) or add them in EnergyCAP."
    )
    assert "meterImportId" not in said  # EnergyCAP's words wait behind Details…
    assert table.item(rows["sftp-inbox"], 8).text() == ""  # only errors: a wait is a state
    table.selectRow(rows["sftp-inbox"])
    assert not window.sources.details_button.isEnabled()
    table.selectRow(rows["site-c"])
    assert window.sources.details_button.isEnabled()
    box = window.sources.show_details()
    assert box is not None and box.text() == said
    assert "Meter with meterImportId 'MPAN-X' not found" in box.detailedText()
    assert "MPAN-Y" in box.detailedText()
    box.close()
    dead = window.dead.table  # one row per meter, the reason short and plain
    reasons = sorted(dead.item(r, 1).text() for r in range(dead.rowCount()))
    assert reasons == ["EnergyCAP has no meter with the import id MPAN-X",
                       "EnergyCAP has no meter with the import id MPAN-Y"]  # fmt: skip
    assert "meterImportId 'MPAN-X'" in dead.item(0, 1).toolTip() + dead.item(1, 1).toolTip()


def test_a_passing_message_fits_beside_the_pause_and_nothing_says_delivering(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window = _window(qtbot, context)
    window.resize(900, 600)  # a narrow window: the message has to give way
    window._show_service_notes(["Listening on http://127.0.0.1:8765/push/<device>",
                                "Delivering to https://app.energycap.com"])  # fmt: skip
    pause = "Delivery paused: EnergyCAP refused the API key. Check the key and host in Settings."
    window.update_connection_label(pause, "EnergyCAP at h refused the API key (HTTP 401)")
    assert "Delivering" not in window.services_label.text()  # not while it is paused
    assert "Listening on" in window.services_label.text()
    qtbot.waitUntil(lambda: window.connection_label.width() > 300)  # laid out
    banes = tmp_path / "energysparks_banes_0030-to-2400_mpan-at-end_copy-for-the-school.csv"
    banes.write_bytes((Path(__file__).resolve().parents[1] / "data" / "hh" / "banes.csv")
                      .read_bytes())  # fmt: skip
    preview = window.open_path(banes)
    assert preview is not None
    qtbot.addWidget(preview)
    bar = window.statusBar()
    message = bar.currentMessage()
    assert message.startswith("energysparks_banes") and "…" in message  # the name shortened
    assert message.endswith(": read as UK half-hourly (48/50-column CSV)")  # this kept whole
    used = window.fontMetrics().horizontalAdvance(message)
    assert used + 16 <= window.connection_label.x()  # whole, a clear gap before the pause
    assert window.connection_label.text() == "⚠ Delivery paused: EnergyCAP refused the API key."
    assert pause in window.connection_label.toolTip()  # the whole sentence on hover
    qtbot.waitUntil(lambda: preview.data is not None, timeout=30_000)
    window.update_connection_label()  # delivering again
    assert "Delivering to" in window.services_label.text()


def test_last_error_keeps_a_third_of_the_dashboard_beside_long_names(
    qtbot: QtBot, context: AppContext
) -> None:
    from app.ui.snapshot import Snapshot, SourceRow

    window = _window(qtbot, context)
    window.resize(1100, 700)
    qtbot.waitUntil(lambda: window.sources.table.viewport().width() > 900)
    said = ("EnergyCAP refused 240 reading(s): it has no meters with the import ids "
            "2000006183919, 2200012030374, 2200012767323 and 2 more.")  # fmt: skip
    long_name = "UK half-hourly collector files from the IMServ data portal, second building"
    rows = [SourceRow(long_name, "file", "needs attention", next_run="✓ received 48 readings "
                      "at 00:13 from the gateway in the plant room", rejected=240,
                      last_error=said)]  # fmt: skip
    window.sources.show_snapshot(Snapshot(sources=rows))
    table = window.sources.table
    assert table.columnWidth(8) >= 0.3 * table.viewport().width() - 2
    assert table.item(0, 0).toolTip() == long_name  # shortened on screen, whole on hover


def test_latest_reading_of_a_dropped_file_is_its_newest_reading_not_when_it_came(
    qtbot: QtBot, context: AppContext
) -> None:
    from app.ui.snapshot import when
    from app.ui.window.panels import SOURCE_HEADERS

    window = _window(qtbot, context)
    with qtbot.waitSignal(window.preview_opened) as opened:
        window.open_path(Path(__file__).parents[1] / "data" / "hh" / "banes.csv")
    preview = opened.args[0]
    qtbot.addWidget(preview)
    if preview.data is None:
        qtbot.waitSignal(preview.loaded, timeout=30_000).wait()
    newest = preview.data.mapped["time"].max()
    assert newest.year == 2024  # the file's readings are from July 2024
    preview.send_button.click()
    qtbot.waitUntil(lambda: "Queued" in preview.message.text(), timeout=10_000)
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh()
    table = window.sources.table
    column = SOURCE_HEADERS.index("Latest reading")
    header = table.horizontalHeaderItem(column)
    assert header.text() == "Latest reading"
    assert "newest reading" in header.toolTip() and "not when" in header.toolTip()
    row = next(r for r in range(table.rowCount()) if "files sent" in table.item(r, 0).text())
    assert table.item(row, column).text() == when(newest.to_pydatetime()) != when(datetime.now(UTC))
    assert table.item(row, column).text().startswith("2024-07")


def test_a_device_row_names_its_reader_and_stays_a_push_once_the_device_is_removed(
    qtbot: QtBot, context: AppContext
) -> None:
    from app.core.sources.devices import DeviceRegistry
    from app.core.sources.removal import remove_source

    DeviceRegistry(context.paths.config_dir / "devices.json").add("gw", "episensor")
    journal = Journal(context.paths.journal_file)
    journal.accept(_readings("000D6F0001A303D4_333", 4), source="push:gw")
    journal.accept(_readings("MPAN1", 4), source="uk-hh")
    journal.accept(_readings("MPAN2", 4), source="pull:verdigris")  # a one-off pull, no job
    journal.close()
    window = _window(qtbot, context)

    def connectors() -> dict[str, str]:
        with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
            window.refresh()
        table = window.sources.table
        return {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}

    shown = connectors()
    assert shown["gw (device)"] == "episensor"
    assert shown["verdigris (pulled)"] == "pull"
    assert [c for name, c in shown.items() if "(files sent)" in name] == ["file"]
    window.sources.select("push:gw")
    assert window.sources.buttons_by_name["remove"].isEnabled()  # a device: configured
    remove_source("push:gw", context.paths, context.secrets)  # its readings stay
    assert connectors()["gw (device)"] == "push"
    window.sources.select("push:gw")
    assert not window.sources.buttons_by_name["remove"].isEnabled()  # nothing left to remove
    assert not window.sources.buttons_by_name["edit"].isEnabled()
