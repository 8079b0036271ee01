"""The map-by-example dialog: click a held body's parts, preview every held body, save, send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.journal.store import Journal
from app.core.listener.body import Payload
from app.core.listener.capture import CaptureStore
from app.core.listener.commit import PushCommitter, PushJob
from app.core.listener.held import HeldPushes, held_row_text
from app.core.listener.push_intake import PushIntake
from app.core.sources.devices import DeviceRegistry
from app.core.sources.register_store import RegisterStore
from app.ui.captures.map_dialog import MapHeldDialog

T0 = pd.Timestamp("2026-05-13T06:00:00Z")


def nested(serial: str, values: list[float]) -> bytes:
    records = [
        {"ts": (T0 + pd.Timedelta(minutes=15 * i)).isoformat(), "kwh": v}
        for i, v in enumerate(values)
    ]
    return json.dumps({"sensor": {"serial": serial}, "data": {"records": records}}).encode()


@dataclass
class Held:
    held: HeldPushes
    journal: Journal
    committer: PushCommitter
    connector: str = ""

    def send(self) -> object:
        def commit(job: PushJob) -> None:
            self.committer.commit_group([job])

        return self.held.send("gw", commit)


JSON_READERS = ("episensor", "aculink810", "readings")


@pytest.fixture(params=JSON_READERS)
def held(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Held]:
    connector = str(request.param)
    devices = DeviceRegistry(tmp_path / "devices.json")
    options = {"on_unreadable": "hold"} if connector == "readings" else {}
    devices.add("gw", connector, "Europe/London", **options)
    captures = CaptureStore(tmp_path / "captures.sqlite3")
    intake = PushIntake(devices, captures)
    for body in (nested("S1", [1.5, 2.25]), nested("S2", [7.0])):
        answer = intake.take(devices.get("gw"), Payload(body, "push-body", "application/json"))
        assert answer.status == 202
    journal = Journal(tmp_path / "journal.sqlite3")
    registers = RegisterStore(tmp_path / "registers.sqlite3")
    yield Held(HeldPushes(devices, captures), journal, PushCommitter(journal, registers), connector)
    registers.close()
    journal.close()


def pick(dialog: MapHeldDialog, qtbot: QtBot, path: str, role: str) -> None:
    assert dialog.view.select_path(path), path
    qtbot.mouseClick(dialog.use_buttons[role], Qt.MouseButton.LeftButton)


def pick_nested_parts(dialog: MapHeldDialog, qtbot: QtBot) -> None:
    """Click the parts of the held nested bodies: the points array, time, value, meter id."""
    pick(dialog, qtbot, "data.records", "points")
    pick(dialog, qtbot, "data.records.0.ts", "time")
    pick(dialog, qtbot, "data.records.0.kwh", "value")
    pick(dialog, qtbot, "sensor.serial", "id")


def test_clicking_the_parts_previews_every_held_body_then_saves_and_sends(
    qtbot: QtBot, held: Held, tmp_path: Path
) -> None:
    assert held_row_text(held.held.counts()) == "2 pushes held: map them"
    dialog = MapHeldDialog(held.held, "gw", send=held.send)
    qtbot.addWidget(dialog)
    dialog.resize(1366, 720)
    dialog.show()
    assert "2 pushes from gw are held" in dialog.intro.text()
    gist = {"episensor": "no points array", "aculink810": "not an Accuenergy message",
            "readings": "JSON, but not a Readings API body"}  # fmt: skip
    assert dialog.problem.text() == f"Why it was held: {gist[held.connector]}."
    assert dialog.problem.details.startswith(gist[held.connector])  # the rest behind Details…
    pick_nested_parts(dialog, qtbot)
    assert dialog.mapping() == {
        "points": "data.records",
        "id": "sensor.serial",
        "time": "ts",
        "value": "kwh",
        "tz": "Europe/London",
    }
    qtbot.waitUntil(lambda: dialog.preview.readings.rowCount() == 3, timeout=5000)
    cells = [tuple(dialog.preview.readings.item(r, c).text() for c in range(5)) for r in range(3)]
    assert cells[0][1:] == ("S1", "2026-05-13 06:00:00Z", "1.5", "kWh")
    assert cells[2][1:] == ("S2", "2026-05-13 06:00:00Z", "7", "kWh")
    assert "2 read fully, 0 with problems" in dialog.summary.text()
    dialog.grab().save(str(tmp_path / "map-held.png"))
    with qtbot.waitSignal(dialog.sent, timeout=10_000) as sent:
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    assert sent.args[0].dropped and not sent.args[0].still_held
    frame = held.journal.pending(100).sort_values(["source_id", "time"])
    assert list(zip(frame["source_id"], frame["time"], frame["value"], strict=True)) == [
        ("S1", T0, 1.5),
        ("S1", T0 + pd.Timedelta(minutes=15), 2.25),
        ("S2", T0, 7.0),
    ]
    assert held.held.counts() == {}
    assert held.held.device("gw").options["mapping"]["id"] == "sensor.serial"


def test_a_csv_body_is_a_table_whose_columns_are_clicked(qtbot: QtBot, tmp_path: Path) -> None:
    devices = DeviceRegistry(tmp_path / "devices.json")
    devices.add("rev", "acurev2100", "UTC")
    captures = CaptureStore(tmp_path / "captures.sqlite3")
    body = b"when,meter,reading\n2026-05-13 06:00,M1,10.5\n2026-05-13 06:15,M1,11\n"
    payload = Payload(body, "export.csv", "text/csv")
    assert PushIntake(devices, captures).take(devices.get("rev"), payload).status == 202
    dialog = MapHeldDialog(HeldPushes(devices, captures), "rev")
    qtbot.addWidget(dialog)
    assert dialog.view.is_csv and not dialog.send_button.isEnabled()
    pick(dialog, qtbot, "meter", "id")
    pick(dialog, qtbot, "when", "time")
    pick(dialog, qtbot, "reading", "value")
    dialog.register.setChecked(True)
    qtbot.waitUntil(lambda: dialog.preview.readings.rowCount() == 2, timeout=5000)
    assert dialog.preview.readings.item(1, 3).text() == "11"
    assert dialog.preview.readings.item(1, 4).text() == "kWh-register"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert devices.get("rev").options["mapping"] == {
        "points": "",
        "id": "meter",
        "time": "when",
        "value": "reading",
        "register": True,
        "tz": "UTC",
    }


def test_the_main_windows_row_counts_held_pushes_and_opens_the_dialog(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from app.core.paths import resolve_paths
    from app.core.settings import Settings
    from app.ui.captures.row import HeldPushesRow

    paths = resolve_paths(tmp_path / "home").ensure()
    devices = DeviceRegistry(paths.config_dir / "devices.json")
    devices.add("gw", "episensor")
    captures = CaptureStore(paths.data_dir / "captures.sqlite3")
    intake = PushIntake(devices, captures)
    for serial in ("S1", "S2", "S3"):
        payload = Payload(nested(serial, [1.0]), "push-body", "application/json")
        assert intake.take(devices.get("gw"), payload).status == 202
    captures.close()
    row = HeldPushesRow(paths, Settings())
    qtbot.addWidget(row)
    with qtbot.waitSignal(row.counted, timeout=5000):
        row.refresh()
    assert row.label.text() == "3 pushes held: map them" and not row.isHidden()
    dialog = row.open_dialog("gw")
    qtbot.addWidget(dialog)
    assert "3 pushes from gw are held" in dialog.intro.text()
    dialog.reject()


def test_a_mapping_refused_or_unreadable_is_said_plainly_and_the_dialog_stays(
    qtbot: QtBot, held: Held
) -> None:
    dialog = MapHeldDialog(held.held, "gw", send=held.send)
    qtbot.addWidget(dialog)
    dialog.show()
    pick_nested_parts(dialog, qtbot)
    qtbot.waitUntil(lambda: dialog.preview.readings.rowCount() == 3, timeout=5000)
    assert not dialog.error.isVisible()
    held.held.devices.remove("gw")  # removed meanwhile (another window, the CLI)
    dialog.refresh_preview()
    assert dialog.error.isVisible()
    assert dialog.error.text() == (
        "The held pushes cannot be read with this mapping: no device named 'gw' (known: none)"
    )
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()  # not saved: the dialog stays with the mapping as it was
    assert dialog.error.text().startswith("The mapping was not saved: no device named 'gw'")
    assert dialog.error.label.styleSheet()  # in red


def test_a_zone_nobody_knows_is_refused_by_name_and_never_stored(
    qtbot: QtBot, held: Held, tmp_path: Path
) -> None:
    dialog = MapHeldDialog(held.held, "gw", send=held.send)
    qtbot.addWidget(dialog)
    dialog.show()
    pick_nested_parts(dialog, qtbot)
    dialog.zone.setCurrentText("Mars/Olympus_Mons")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()  # not saved: the dialog stays so the zone can be corrected
    assert dialog.error.isVisible()
    assert dialog.error.text().startswith("The mapping was not saved:")
    assert "'Mars/Olympus_Mons' is not a time zone this PC knows" in dialog.error.text()
    assert "mapping" not in DeviceRegistry(tmp_path / "devices.json").get("gw").options
    assert held.held.counts() == {"gw": 2}  # the held pushes wait for a mapping that reads
