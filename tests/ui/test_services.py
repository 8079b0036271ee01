"""The app's background services: the listener listens and Send reaches EnergyCAP in the
background (the same threads keep running while the window is hidden in the tray)."""

from __future__ import annotations

import socket
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.cli.gui.services import GuiServices
from app.core.connector_catalog import build_registry
from app.core.preview.data import PreviewRequest, load_preview
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.window.main_window import MainWindow
from connectors.base import Source
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.energycap_model import FakeChannel
from tests.ports import free_port


def test_send_is_delivered_by_the_background_services(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap, hh_samples: Path
) -> None:
    kwh, kvarh = (
        FakeChannel(51, "MOSS", "Use", "kWh", 1800),
        FakeChannel(52, "MOSS-R", "ReactiveUse", "kVARh", 1800),
    )
    energycap.add_meter(5, "2336533093112", [kwh, kvarh])
    context.settings.energycap.url = energycap.url
    context.settings.listener.port = free_port()
    context.secrets.set(API_KEY_SECRET, "test-key")
    context.save()
    window = MainWindow(context)
    qtbot.addWidget(window)
    services = GuiServices(context.paths, context.secrets)
    window.attach_services(services)
    try:
        port = context.settings.listener.port
        assert f"Receiving pushes on port {port} (this PC only)" in services.notes
        assert f"Delivering to {energycap.url}" in services.notes
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the push listener accepts connections
        sample = hh_samples / "sheffield.csv"  # 96 kWh and 48 kVArh readings
        source = Source.from_path(sample)
        data = load_preview(
            PreviewRequest(build_registry().get("uk-hh"), source, {}, context.mapping_table())
        )
        window.actions_.send(data)
        qtbot.waitUntil(
            lambda: "Queued for EnergyCAP" in window.banner.label.text(), timeout=10_000
        )
        window.hide()  # in the tray: delivery goes on
        qtbot.waitUntil(lambda: len(energycap.readings()) == len(data.mapped), timeout=30_000)
    finally:
        services.stop()
    assert energycap.readings_for(51)["value"].tolist() == [*range(101, 149), *range(201, 249)]
    assert energycap.readings_for(52)["value"].tolist() == list(range(501, 549))


def test_new_settings_restart_the_services(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap
) -> None:
    context.settings.listener.port = free_port()
    context.save()
    window = MainWindow(context)
    qtbot.addWidget(window)
    services = GuiServices(context.paths, context.secrets)
    window.attach_services(services)
    try:
        assert "Not delivering: set the EnergyCAP host and API key" in window.services_label.text()
        context.settings.energycap.url = energycap.url
        context.secrets.set(API_KEY_SECRET, "test-key")
        context.save()
        window.restart_services()
        qtbot.waitUntil(lambda: "Delivering to" in window.services_label.text(), timeout=20_000)
        assert f"Delivering to {energycap.url}" in window.services_label.text()
    finally:
        services.stop()


def test_send_applies_the_mapping_multiplier_once(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap, hh_samples: Path, tmp_path: Path
) -> None:
    """The preview shows mapped values; the journal gets the source's values, and delivery
    applies the mapping: a multiplier of 2 doubles the readings once, not twice."""
    energycap.add_meter(6, "M6", [FakeChannel(61, "MOSS-X2", "Use", "kWh", 1800)])
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(
        "source_id,quantity,channel_import_id,multiplier\n2336533093112,kWh,MOSS-X2,2\n",
        encoding="utf-8",
    )
    context.settings.mapping_file = str(mapping)
    context.settings.energycap.url = energycap.url
    context.settings.listener.port = free_port()
    context.secrets.set(API_KEY_SECRET, "test-key")
    context.save()
    window = MainWindow(context)
    qtbot.addWidget(window)
    services = GuiServices(context.paths, context.secrets)
    window.attach_services(services)
    try:
        sample = hh_samples / "sheffield.csv"
        data = load_preview(
            PreviewRequest(
                build_registry().get("uk-hh"), Source.from_path(sample), {}, context.mapping_table()
            )
        )
        kwh = data.mapped[data.mapped["channel_import_id"] == "MOSS-X2"]
        assert len(kwh) == 96
        window.actions_.send(data)
        qtbot.waitUntil(lambda: len(energycap.readings_for(61)) == len(kwh), timeout=30_000)
    finally:
        services.stop()
    sent = energycap.readings_for(61).sort_values("time")["value"].to_numpy()
    shown = kwh.sort_values("time")["value"].to_numpy()
    assert (sent == shown).all()
    assert (sent == 2 * kwh.sort_values("time")["source_value"].to_numpy()).all()


def test_send_keeps_the_identities_a_readings_api_body_names(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap, tmp_path: Path
) -> None:
    """A Readings-API JSON body addressed by channelImportId is previewed on that channel
    and, sent from the GUI, lands there (not on a meter named like the import id)."""
    energycap.add_meter(7, "M7", [FakeChannel(71, "C-JSON", "Use", "kWh", 900)])
    energycap.add_meter(8, "C-JSON", [FakeChannel(81, "DECOY", "Use", "kWh", 900)])
    body = tmp_path / "readings.json"
    body.write_text(
        '[{"channelImportId": "C-JSON", "observationTypeCode": "Use", "unitCode": "kWh",'
        ' "readings": [{"time": "2025-11-02T05:15:00+00:00", "value": 1.5},'
        ' {"time": "2025-11-02T06:15:00+00:00", "value": 2.5}]}]',
        encoding="utf-8",
    )
    context.settings.energycap.url = energycap.url
    context.settings.listener.port = free_port()
    context.secrets.set(API_KEY_SECRET, "test-key")
    context.save()
    window = MainWindow(context)
    qtbot.addWidget(window)
    services = GuiServices(context.paths, context.secrets)
    window.attach_services(services)
    try:
        data = load_preview(
            PreviewRequest(
                build_registry().get("readings-json"),
                Source.from_path(body),
                {},
                context.mapping_table(),
            )
        )
        assert data.mapped["channel_import_id"].tolist() == ["C-JSON", "C-JSON"]
        window.actions_.send(data)
        qtbot.waitUntil(lambda: len(energycap.readings_for(71)) == 2, timeout=30_000)
    finally:
        services.stop()
    assert energycap.readings_for(71)["value"].tolist() == [1.5, 2.5]
    assert len(energycap.readings_for(81)) == 0


def test_the_apps_listener_honours_register_raw_rows_of_the_mapping(
    context: AppContext, tmp_path: Path
) -> None:
    """The mapping chosen in Settings decides which registers go raw (no restart needed)."""
    import requests

    from app.core.journal.store import Journal
    from app.core.sources.devices import DeviceRegistry

    sensor = "000D6F0001A303D4_333"
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(f"source_id,channel_import_id,register\n{sensor},C11,raw\n")
    context.settings.listener.port = free_port()
    context.settings.mapping_file = str(mapping)
    context.save()
    token = DeviceRegistry(context.paths.config_dir / "devices.json").add("gw", "episensor")
    services = GuiServices(context.paths, context.secrets)
    services.start()
    try:
        points = [{"exportId": sensor, "timestamp": 1_780_000_000 + 900 * i, "value": 100.0 + i}
                  for i in range(3)]  # fmt: skip
        url = f"http://127.0.0.1:{context.settings.listener.port}/push/gw?token={token}"
        assert requests.post(url, json=points, timeout=10).status_code == 200
    finally:
        services.stop()
    journal = Journal(context.paths.journal_file)
    pending = journal.pending(10)
    journal.close()
    assert pending["quantity"].tolist() == ["kWh-register"] * 3
    assert pending["value"].tolist() == [100.0, 101.0, 102.0]
