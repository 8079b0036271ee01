"""The desktop app names a device its devices.json makes unusable, at start, and serves the rest."""

from __future__ import annotations

import json
import os
from pathlib import Path

import requests
from pytestqt.qtbot import QtBot

from app.cli.gui.services import GuiServices
from app.core.sources.devices import DeviceRegistry
from app.ui.context import AppContext
from app.ui.window.main_window import MainWindow
from tests.ports import free_port


def test_the_app_names_the_file_device_and_zone_at_start_and_refuses_only_that_device(
    qtbot: QtBot, context: AppContext
) -> None:
    context.settings.listener.port = free_port()
    context.save()
    devices_file = context.paths.config_dir / "devices.json"
    registry = DeviceRegistry(devices_file)
    good = registry.add("good", "readings", "America/New_York")
    bad = registry.add("bad", "readings", "UTC")
    document = json.loads(devices_file.read_text())
    document["devices"][1]["tz"] = "Europe/Londn"
    devices_file.write_text(json.dumps(document))
    window = MainWindow(context)
    qtbot.addWidget(window)
    services = GuiServices(context.paths, context.secrets)
    window.attach_services(services)
    try:
        shown = window.services_label.toolTip()
        assert "Device file problem: device 'bad': time zone 'Europe/Londn'" in shown
        assert f"(in {devices_file})" in shown
        port = context.settings.listener.port
        body = [{"channelImportId": "C1", "observationTypeCode": "Use", "unitCode": "kWh",
                 "readings": [{"time": "2026-11-01T01:30:00-04:00", "value": 1.0}]}]  # fmt: skip
        url = f"http://127.0.0.1:{port}/push/{{}}?token={{}}"
        refused = requests.post(url.format("bad", bad), json=body, timeout=10)
        assert refused.status_code == 503 and "'bad'" in refused.json()["error"]
        assert requests.post(url.format("good", good), json=body, timeout=10).status_code == 200
        if os.environ.get("METERBRIDGE_SCREENSHOTS"):
            window.resize(1100, 700)
            window.grab().save(str(Path(os.environ["METERBRIDGE_SCREENSHOTS"]) / "device-file.png"))
    finally:
        services.stop()
