"""A scheduled SFTP pull's missing readings are said on its dashboard row, not only in its record.

The real window offscreen, the app's own scheduler thread running the saved job
against a real SFTP server on loopback, delivering to the fake EnergyCAP.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.cli.gui.services import GuiServices
from app.core.pulls.jobs import JobStore
from app.core.pulls.sftp.poll import SftpConfig, SftpFolder
from app.ui.context import AppContext
from app.ui.window.main_window import MainWindow
from app.ui.window.panels import ERROR_COLUMN, WARNING_TEXT
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.sftp_server import start_server
from tests.ui.app_setup import connect_to_fake

USER = Qt.ItemDataRole.UserRole
JOB = "Site SFTP"


def hours(meter: str, day: int, count: int, skip: tuple[int, ...] = ()) -> str:
    rows = [f"{meter},2026-11-{day:02d}T{h:02d}:30:00Z,{h}" for h in range(count) if h not in skip]
    return "source_id,time,value\n" + "\n".join(rows) + "\n"


def irregular(meter: str, readings: int) -> str:
    """A channel read at irregular times: every step a different number of seconds."""
    start, rows = datetime(2026, 11, 3, tzinfo=UTC), []
    for step in range(1, readings + 1):
        start += timedelta(seconds=59 * step)
        rows.append(f"{meter},{start:%Y-%m-%dT%H:%M:%SZ},1")
    return "source_id,time,value\n" + "\n".join(rows) + "\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[object]:
    srv = start_server(tmp_path)
    (srv.root / "incoming").mkdir()
    (srv.root / "logger").mkdir()
    yield srv
    srv.stop()


def _error_cell(window: MainWindow, name: str) -> tuple[str, str, object]:
    window.refresh()
    table = window.sources.table
    for row in range(table.rowCount()):
        if table.item(row, 0).data(USER) == name:
            item = table.item(row, ERROR_COLUMN)
            return item.text(), item.toolTip(), item.foreground().color()
    return "", "", None


def test_a_scheduled_sftp_pulls_missing_readings_are_on_its_dashboard_row(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap, server, tmp_path: Path
) -> None:
    connect_to_fake(context, energycap)
    incoming = server.root / "incoming"
    (incoming / "gappy.csv").write_text(hours("M1", 3, 12, skip=(3, 4)))  # 03:30, 04:30 missing
    (incoming / "whole.csv").write_text(hours("M2", 3, 6))
    (server.root / "logger" / "logger.csv").write_text(irregular("M3", 150))  # no interval
    logger = SftpFolder(server.remote("logger"), options={"interval_s": 60})  # sent as 1 min
    config = SftpConfig(host="127.0.0.1", port=server.port, user=server.user,
                        folders=[SftpFolder(server.remote("incoming")), logger],
                        key_file=str(server.client_key),
                        host_key_fingerprint=server.fingerprint)  # fmt: skip
    store = JobStore(context.jobs_file)
    store.save(JOB, "sftp", config.to_dict(), timedelta(minutes=15), datetime.now(UTC))
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    services = GuiServices(context.paths, context.secrets)
    window.attach_services(services)  # its scheduler runs the due job: nobody asked
    try:
        qtbot.waitUntil(lambda: store.get(JOB).last_status is not None, timeout=60_000)
        assert store.get(JOB).last_status == "ok", store.get(JOB).last_message  # warnings only
        first_missing = datetime(2026, 11, 3, 3, 30, tzinfo=UTC).astimezone()
        said = f"2 readings missing on channel M1 (kWh) from {first_missing:%Y-%m-%d %H:%M}"
        qtbot.waitUntil(lambda: said in _error_cell(window, JOB)[0], timeout=15_000)
        text, tip, colour = _error_cell(window, JOB)
        assert text == f"⚠ {said} (gappy.csv), and 1 more: see Details…"
        assert colour == WARNING_TEXT  # a warning, not a red error
        where = f"sftp://{server.user}@127.0.0.1:{server.port}"
        assert tip.splitlines() == [  # Details…: every warning, the whole place of each file
            f"{said} ({where}/incoming/gappy.csv)",
            "channel M3 (kWh) not checked for missing readings: its readings come at "
            f"irregular times, so its interval could not be inferred ({where}/logger/logger.csv)",
        ]
        window.sources.select(JOB)
        assert window.sources.details_button.isEnabled()
        box = window.sources.show_details()
        assert box is not None and box.detailedText() == tip
        box.close()
        path = os.environ.get("METERBRIDGE_SCREENSHOT")  # look at it: a PNG outside the repo
        if path:
            window.sources.table.clearSelection()  # the row's own colours
            window.resize(1366, 500)
            window.grab().save(path)
        assert len(energycap.readings()) == 10 + 6 + 150  # warnings: everything still sent
    finally:
        services.stop()
