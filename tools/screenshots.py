"""Make the README's screenshots of the desktop app (runs under QT_QPA_PLATFORM=offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py [--out docs/screenshots]

Everything shown is real: a throw-away home whose devices, journal and schedule are
filled through the core (two registered push gateways, readings accepted, one refused,
a job that failed), and a real UK half-hourly sample from ../shared/samples/uk-hh in
the preview.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SAMPLES = REPO.parent / "shared" / "samples" / "uk-hh"
SAMPLE = SAMPLES / "energysparks_banes_0030-to-2400_mpan-at-end.csv"
MAPPING = (
    "source_id,quantity,channel_import_id,meter_import_id,channel_id,observation_type,unit,"
    "multiplier\n2000006183919,kWh,FRESHFORD-ELEC-HH,,,Use,kWh,\n"
    "2200012030374,kWh,HIGHLITTLETON-HH,,,Use,kWh,\n"
    "2336533093112,kWh,MOSS-ELEC-HH,,,Use,kWh,\n"
)


def fill_home(home: Path) -> None:
    """Journal readings and deliver them to a loopback EnergyCAP (tests/fakes): some are
    confirmed (one batch through the Import API, with its task id), two are refused."""
    import pandas as pd

    from app.core.delivery.engine import deliver_pending
    from app.core.energycap.client import EnergyCapClient
    from app.core.journal.store import Journal
    from app.core.mapping import parse_mapping_csv
    from app.core.pulls.jobs import JobOutcome, JobStore
    from app.core.settings import EnergyCapSettings
    from app.core.sources.devices import DeviceRegistry
    from connectors.base import make_readings
    from tests.fakes.energycap import FakeEnergyCap
    from tests.fakes.energycap_model import FakeChannel

    devices = DeviceRegistry(home / "devices.json")  # the two gateways pushing below
    for gateway in ("site-a", "site-b"):
        devices.add(gateway, "episensor", "Europe/London")
    journal = Journal(home / "journal.sqlite3")
    with FakeEnergyCap(api_key="demo") as fake:
        fake.unknown_meter_policy = "fail"
        fake.add_meter(1, "2336533093112", [FakeChannel(11, "MOSS-ELEC-HH", "Use", "kWh", 1800)])
        fake.add_meter(
            2, "000D6F0001A303D4_333", [FakeChannel(21, "SITEA-333", "Use", "kWh", 1800)]
        )
        client = EnergyCapClient(fake.url, "demo")
        table = parse_mapping_csv(MAPPING + "000D6F0001A303D4_333,,SITEA-333,,,,,\n")
        batches = (
            ("push:site-a", "000D6F0001A303D4_333", 96, "readings"),
            ("imserv-feed", "2336533093112", 48, "import"),
            ("push:site-b", "000D6F0001B7C1E2_333", 2, "readings"),
        )
        for source, meter, n, api in batches:
            times = pd.date_range("2026-11-24 00:30", periods=n, freq="30min", tz="Europe/London")
            readings = make_readings(source_id=meter, time=times, value=range(n), interval_s=1800)
            journal.accept(readings, source=source)
            deliver_pending(journal, client, EnergyCapSettings(url=fake.url, api=api), table)
    times = pd.date_range("2026-11-26 00:30", periods=12, freq="30min", tz="Europe/London")
    journal.accept(make_readings(source_id="000D6F0001A303D4_333", time=times, value=range(12),
                                 interval_s=1800), source="push:site-a")  # fmt: skip
    journal.close()
    store = JobStore(home / "jobs.sqlite3")
    now = datetime.now(UTC)
    store.save(
        "verdigris-campus", "verdigris", {}, timedelta(minutes=15), now + timedelta(minutes=9)
    )
    store.record_run("verdigris-campus", now - timedelta(minutes=6), now - timedelta(minutes=6),
                     JobOutcome(ok=True, message="96 readings", readings=96))  # fmt: skip
    store.save("collector-sftp", "sftp", {}, timedelta(hours=1), now + timedelta(minutes=41))
    refused = JobOutcome(ok=False, message="host key changed: refused the server")
    earlier = now - timedelta(minutes=19)
    store.record_run("collector-sftp", earlier, earlier, refused)
    (home / "mapping.csv").write_text(MAPPING, encoding="utf-8")


def wait_for(app: object, condition: object, timeout_s: float = 60.0) -> None:
    """Process events until `condition()` is true."""
    import time

    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < end:  # type: ignore[operator]
        QApplication.processEvents()
        time.sleep(0.01)


def shoot(widget: object, path: Path) -> None:
    """Save a picture of `widget`."""
    from PySide6.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()
    widget.grab().save(str(path))  # type: ignore[attr-defined]
    print(f"wrote {path}")


def main() -> int:
    """Build each screen in a demo home and save PNGs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="meterbridge-shots-"))
    os.environ["METERBRIDGE_HOME"] = str(home)
    fill_home(home)

    from app.core.paths import resolve_paths
    from app.ui.application import ensure_qapp
    from app.ui.context import AppContext
    from app.ui.theme import apply_theme
    from app.ui.window.log_viewer import setup_logging

    app = ensure_qapp()
    paths = resolve_paths(home).ensure()
    setup_logging(paths.log_dir)
    context = AppContext.load(paths)
    context.settings.mapping_file = str(home / "mapping.csv")
    context.settings.energycap.url = "https://app-eu.energycap.com"
    os.environ["ECAP_API_KEY"] = "demo"  # connected: the dashboard's checklist is done
    apply_theme(app, "light")
    from tests.fakes.memory_keyring import installed

    with installed():  # the key as the app keeps it, in a keyring (here one in memory)
        screens(app, context, args.out)
    apply_theme(app, "dark")
    main_window(app, context, args.out / "main-window-dark.png")
    return 0


def main_window(app: object, context: object, path: Path) -> object:
    """The dashboard with its sources."""
    from app.ui.window.main_window import MainWindow

    window = MainWindow(context)  # type: ignore[arg-type]
    window.show()  # placed for the (offscreen) screen first, then sized for the picture
    window.resize(1180, 620)
    shown: list[object] = []
    window.snapshot_shown.connect(shown.append)
    window.refresh()
    wait_for(app, lambda: shown)
    shoot(window, path)
    return window


def mapping_editor(app: object, context: Any, path: Path) -> None:
    """The mapping editor with EnergyCAP's lists loaded from a loopback EnergyCAP."""
    from app.ui.mapping.editor import MappingEditor
    from tests.fakes.energycap import FakeEnergyCap
    from tests.fakes.energycap_model import FakeChannel

    with FakeEnergyCap(api_key="demo") as fake:
        for number, (meter, site) in enumerate(
            [("2000006183919", "FRESHFORD"), ("2200012030374", "HIGHLITTLETON"),
             ("2336533093112", "MOSS"), ("2200012767323", "BATHFORD")], start=1,
        ):  # fmt: skip
            fake.add_meter(number, meter, [
                FakeChannel(number * 10 + 1, f"{site}-ELEC-HH", "Use", "kWh", 1800),
                FakeChannel(number * 10 + 2, f"{site}-DEMAND", "Demand", "kW", 1800),
            ])  # fmt: skip
        saved_url = context.settings.energycap.url
        context.settings.energycap.url = fake.url
        os.environ["ECAP_API_KEY"] = "demo"  # headless: the key from the environment
        editor = MappingEditor(context)
        editor.resize(1180, 560)
        editor.show()
        loaded: list[object] = []
        editor.catalog_loaded.connect(loaded.append)
        editor.fetch_catalog()
        wait_for(app, lambda: loaded)
        opened: list[int] = []  # a meter's channel import ids are read when it is opened
        editor.pane.channels_loaded.connect(opened.append)
        editor.pane.expand_meter(3)
        wait_for(app, lambda: opened)
        context.settings.energycap.url = saved_url
    editor.add_row({"source_id": "2200012767323", "quantity": "kWh",  # the site as the file says
                    "label": "Bathford C of E Primary School Electrici"})  # fmt: skip
    editor.fit_columns()
    editor.pane.select_channel(3, 0)
    shoot(editor, path)


def screens(app: object, context: object, out: Path) -> None:
    """Main window, dead letters, preview (table and chart), mapping, settings, wizard."""
    import logging

    from PySide6.QtCore import Qt

    from app.ui.preview.window import PreviewWindow
    from app.ui.settings.dialog import SettingsDialog
    from app.ui.wizards.source_wizard import SOURCE, SourceWizard
    from connectors.base import Source

    logging.getLogger("app.ui").info("meterbridge started; listening on 127.0.0.1:8765")
    window = main_window(app, context, out / "main-window.png")
    window.tabs.setCurrentIndex(2)  # type: ignore[attr-defined]
    shoot(window, out / "dead-letters.png")
    window.tabs.setCurrentIndex(1)  # type: ignore[attr-defined]
    shoot(window, out / "activity.png")
    table = context.mapping_table()  # type: ignore[attr-defined]
    preview = PreviewWindow(SAMPLE, context.registry.rank(Source.from_path(SAMPLE)), table)  # type: ignore[attr-defined]
    preview.show()
    preview.resize(1180, 720)
    settled: list[bool] = []
    preview.settled.connect(lambda: settled.append(True))
    preview.start()
    wait_for(app, lambda: settled)
    spike = next(i for i in range(preview.warnings.count())
                 if preview.warnings.item(i).text().startswith("Unusual jump"))  # fmt: skip
    preview.warnings.setCurrentRow(spike)
    preview.warnings.itemActivated.emit(preview.warnings.item(spike))
    preview.view.clearSelection()  # show the row's warning tint, not the selection colour
    shoot(preview, out / "preview.png")
    preview.tabs.setCurrentIndex(1)
    spike_row = next(w.first_row for w in preview.data.report.warnings if w.kind == "spike")
    spiky = preview.model.cell_text(spike_row or 0, "source_id")
    found = preview.chart.picker.findText(spiky, Qt.MatchFlag.MatchStartsWith)
    preview.chart.picker.setCurrentIndex(max(0, found))
    shoot(preview, out / "preview-chart.png")
    mapping_editor(app, context, out / "mapping-editor.png")
    dialog = SettingsDialog(context)  # type: ignore[arg-type]
    dialog.show()
    shoot(dialog, out / "settings.png")
    wizard = SourceWizard(context, "uk-hh")  # type: ignore[arg-type]
    wizard.show()
    wizard.page(SOURCE).folder.setText(str(Path.home() / "collector-drop"))  # type: ignore[attr-defined]
    shoot(wizard, out / "wizard-uk-hh.png")
    push = SourceWizard(context, "episensor")  # type: ignore[arg-type]
    push.show()
    push.page(SOURCE).name.setText("head-office")  # type: ignore[attr-defined]
    push.next()
    shoot(push, out / "wizard-push.png")


if __name__ == "__main__":
    sys.exit(main())
