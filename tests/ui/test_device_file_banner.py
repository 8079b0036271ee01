"""A devices.json edited by hand into a device this PC cannot use: the dashboard says so.

The banner names the device and what is wrong in plain words (the file, the
full text and the command that fixes it behind Details…), the device's row is
marked, and both go once the device is fixed. Real files, a real window offscreen.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.sources.devices import DeviceRegistry
from app.ui.context import AppContext
from app.ui.snapshot import DEVICE_BROKEN
from app.ui.window.main_window import MainWindow
from app.ui.window.panels import ERROR_COLUMN, RED


def _hand_edit(devices_file: Path, **entries: dict[str, object]) -> None:
    document = json.loads(devices_file.read_text())
    for entry in document["devices"]:
        entry.update(entries.get(entry["name"], {}))
    devices_file.write_text(json.dumps(document))


def _shown(qtbot: QtBot, window: MainWindow) -> dict[str, int]:
    with qtbot.waitSignal(window.snapshot_shown, timeout=10_000):
        window.refresh()
    table = window.sources.table
    return {table.item(r, 0).data(Qt.ItemDataRole.UserRole): r for r in range(table.rowCount())}


def test_a_bad_zone_is_on_the_banner_and_the_row_until_the_device_is_fixed(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    devices_file = context.paths.config_dir / "devices.json"
    registry = DeviceRegistry(devices_file)
    registry.add("good", "readings", "America/New_York")
    registry.add("boiler-house", "readings", "UTC")
    _hand_edit(devices_file, **{"boiler-house": {"tz": "Europe/Londn"}})
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1100, 600)
    window.show()
    rows = _shown(qtbot, window)
    banner = window.banner
    assert banner.isVisible()
    assert banner.text() == (
        "Device “boiler-house” cannot receive readings: time zone 'Europe/Londn' is not a time "
        "zone this PC knows. Its pushes are refused until it is fixed."
    )
    assert banner.details_button.isVisible()
    box = banner.show_details()
    assert str(devices_file) in box.detailedText() + box.text() + box.informativeText()
    assert "meterbridge device set boiler-house --tz ZONE" in (
        box.detailedText() + box.text() + box.informativeText()
    )
    box.close()
    table = window.sources.table
    bad, good = rows["push:boiler-house"], rows["push:good"]
    assert table.item(bad, 2).text() == DEVICE_BROKEN
    assert table.item(bad, ERROR_COLUMN).text().startswith("Device “boiler-house” cannot receive")
    assert table.item(bad, 0).background().color() == RED
    assert table.item(good, ERROR_COLUMN).text() == ""
    assert table.item(good, 0).background().color() != RED
    if os.environ.get("METERBRIDGE_SCREENSHOTS"):
        shots = Path(os.environ["METERBRIDGE_SCREENSHOTS"])
        window.grab().save(str(shots / "device-file-banner.png"))
    # A second broken device: the first is named, the rest counted, all behind Details….
    _hand_edit(devices_file, good={"connector": "smart-plug"})
    _shown(qtbot, window)
    assert banner.isVisible() and "1 more problem(s): see Details…" in banner.text()
    assert "'smart-plug'" in banner.details and "'Europe/Londn'" in banner.details
    # Fixed by hand again: the banner goes, the rows are plain.
    _hand_edit(devices_file, good={"connector": "readings"}, **{"boiler-house": {"tz": "UTC"}})
    rows = _shown(qtbot, window)
    assert not banner.isVisible()
    assert table.item(rows["push:boiler-house"], 2).text() == "waiting for first push"
    assert table.item(rows["push:boiler-house"], ERROR_COLUMN).text() == ""


def test_a_device_file_that_is_not_json_or_an_entry_that_is_not_a_device_is_on_the_banner(
    qtbot: QtBot, context: AppContext
) -> None:
    devices_file = context.paths.config_dir / "devices.json"
    devices_file.write_text('{"devices": [\n  {"name": "a",}\n]}\n')
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    _shown(qtbot, window)
    assert window.banner.isVisible()
    assert window.banner.text().startswith(
        "The device list devices.json cannot be read: it is not valid JSON at line 2"
    )
    assert str(devices_file) in window.banner.details
    devices_file.write_text(json.dumps({"devices": [42]}))
    _shown(qtbot, window)
    assert window.banner.text() == (
        "The device list devices.json has an entry that is not used: entry 1 (42) is not a "
        "named device."
    )
