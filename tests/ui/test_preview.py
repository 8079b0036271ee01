"""The preview: virtual table, warnings, chart, saving, and a GUI thread that never stalls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from app.core.mapping import MappingTable, apply_mapping
from app.core.preview.checks import Flag
from app.core.preview.columns import TableColumns
from app.core.preview.process import warm_up
from app.ui.context import AppContext
from app.ui.preview.model import COLUMN, COLUMNS, ReadingsModel
from app.ui.preview.window import PreviewWindow
from connectors.base import Source, make_readings
from connectors.registry import Candidate
from tests.ui.hh_files import HEADER, day_row, write_hh

BASE = [2.0] * 48
CELLS = [COLUMN[name] for name in ("source_id", "target", "time", "value")]


def _preview(qtbot: QtBot, context: AppContext, path: Path) -> PreviewWindow:
    candidates = context.registry.rank(Source.from_path(path))
    window = PreviewWindow(path, candidates, context.mapping_table())
    qtbot.addWidget(window)
    window.show()
    return window


def _load(qtbot: QtBot, window: PreviewWindow) -> None:
    with qtbot.waitSignals([window.loaded, window.settled], timeout=60_000):
        window.start()


def test_uk_sample_previews_with_energycap_columns(
    qtbot: QtBot, context: AppContext, hh_samples: Path
) -> None:
    window = _preview(qtbot, context, hh_samples / "sheffield.csv")
    _load(qtbot, window)
    model = window.model
    assert model is not None and window.data is not None
    assert window.data.connector_id == "uk-hh"
    assert model.rowCount() == len(window.data.mapped) == 48 + 48 + 48  # kWh, kVArh, kWh
    headers = [model.headerData(c, Qt.Orientation.Horizontal, 0) for c in range(len(COLUMNS))]
    assert "EnergyCAP target" in headers and "Time (UTC, interval end)" in headers
    first = {name: model.data(model.index(0, c)) for name, c in COLUMN.items()}
    assert first["source_id"] == "2336533093112" and first["target"] == "meter 2336533093112"
    codes = {
        (model.data(model.index(r, COLUMN["observation_type"])),
         model.data(model.index(r, COLUMN["unit_code"])))
        for r in range(144)
    }  # fmt: skip
    assert codes == {("Use", "kWh"), ("ReactiveUse", "kVARh")}  # the default codes
    assert window.send_button.isEnabled()
    assert any(
        "not mapped to EnergyCAP yet" in window.warnings.item(i).text()
        for i in range(window.warnings.count())
    )
    assert window.chart.channel_count() >= 1


def test_warnings_are_highlighted_and_filterable(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    spiky = BASE.copy()
    spiky[20] = 95.0
    negative = BASE.copy()
    negative[3] = -4.0
    rows = [
        day_row("1000000000001", "01/06/2025", BASE),
        day_row("1000000000001", "02/06/2025", spiky),
        day_row("1000000000001", "04/06/2025", negative),  # 03/06 missing: a gap
    ]
    path = tmp_path / "hh.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    window = _preview(qtbot, context, path)
    _load(qtbot, window)
    report = window.data.report
    assert report.count(Flag.SPIKE) == 1
    assert report.count(Flag.NEGATIVE) == 1
    assert report.count(Flag.GAP) == 1
    kinds = {w.kind for w in report.warnings}
    assert {"spike", "negative", "gap before", "unmapped"} <= kinds
    window.only_flagged.setChecked(True)
    # Nothing is mapped, so every row is "unmapped": that alone is no reason to show a row.
    assert window.model.rowCount() == 3 == int(np.count_nonzero(report.flags & ~Flag.UNMAPPED))
    spike = next(w for w in report.warnings if w.kind == "spike")
    window.warnings.itemClicked.emit(window.warnings.item(report.warnings.index(spike)))
    shown = window.view.selectionModel().selectedRows()[0].row()
    assert window.model.cell_text(window.model.source_row(shown), "value") == "95.000"
    spike_row = next(
        r
        for r in range(window.model.rowCount())
        if "Unusual jump" in window.model.data(window.model.index(r, COLUMN["flags"]))
    )
    index = window.model.index(spike_row, COLUMN["value"])
    assert window.model.data(index) == "95.000"
    assert window.model.data(index, Qt.ItemDataRole.BackgroundRole) is not None


def test_save_writes_energycap_csv_and_profile(
    qtbot: QtBot, context: AppContext, hh_samples: Path, tmp_path: Path
) -> None:
    window = _preview(qtbot, context, hh_samples / "imserv.csv")
    _load(qtbot, window)
    with qtbot.waitSignal(window.saved) as saved:
        window.save_to(tmp_path / "out")
    written = [Path(p) for p in saved.args[0]]
    csv_file = next(p for p in written if p.suffix == ".csv")
    profile = next(p for p in written if p.name.endswith(".profile.json"))
    lines = csv_file.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "ImportId,Timestamp,Value,Estimated,Note"
    assert len(lines) == 1 + len(window.data.mapped) == 1 + 48
    assert '"meterImportIdColumnNumber": 1' in profile.read_text(encoding="utf-8")


def test_model_is_virtual_over_a_million_rows(qtbot: QtBot) -> None:
    """Any cell of a million rows reads right (cost per cell: tests/bench/bench_preview_gui.py)."""
    n = 1_000_000
    times = pd.date_range("2024-01-01", periods=n, freq="30min", tz="UTC")
    readings = make_readings(
        source_id="M1", time=times, value=np.arange(n, dtype=float), interval_s=1800
    )
    mapped = apply_mapping(readings, MappingTable())
    model = ReadingsModel(TableColumns(mapped, np.zeros(n, dtype=np.uint8)))
    assert model.rowCount() == n
    rows = np.random.default_rng(1).integers(0, n, 2000)
    cells = [model.data(model.index(int(r), c)) for r in rows for c in CELLS]
    assert model.data(model.index(n - 1, COLUMN["value"])) == f"{n - 1:,.3f}"
    assert cells[3] == f"{rows[0]:,.3f}"
    assert cells[0] == "M1" and cells[1] == "meter M1"


def test_gui_thread_never_blocked_during_a_large_conversion(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    """While 201,600 readings convert, the conversion is elsewhere (a child process) and the
    GUI's event loop keeps turning: a click on Cancel would be taken. (How long the GUI
    thread pauses is measured by tests/bench/bench_preview_gui.py, not by a timed test.)"""
    path = write_hh(tmp_path / "big.csv", meters=70, days=60)  # 201,600 readings
    warm_up()  # as the app does at start, off the GUI thread
    window = _preview(qtbot, context, path)
    qtbot.waitExposed(window)
    turns = [0]
    idle = QTimer()
    idle.setInterval(0)  # fires once per turn of the event loop
    idle.timeout.connect(lambda: turns.__setitem__(0, turns[0] + 1))
    progressed: list[str] = []
    turns_when_loaded: list[int] = []
    window.loaded.connect(lambda _d: turns_when_loaded.append(turns[0]))
    idle.start()
    try:
        window.start()
        assert window.data is None and window.worker is not None  # started, not done
        assert window.cancel_button.isVisible() and window.cancel_button.isEnabled()
        window.worker.signals.progressed.connect(lambda _n, text: progressed.append(text))
        with qtbot.waitSignal(window.settled, timeout=120_000):
            pass
    finally:
        idle.stop()
    assert window.model.rowCount() == 201_600
    assert turns_when_loaded[0] >= 20, f"the event loop turned {turns_when_loaded[0]} times"
    assert progressed, "no progress was shown while converting"


def test_cancel_stops_the_conversion(qtbot: QtBot, context: AppContext, tmp_path: Path) -> None:
    path = write_hh(tmp_path / "big.csv", meters=40, days=60)
    window = _preview(qtbot, context, path)
    window.start()
    worker = window.worker
    assert worker is not None
    with qtbot.waitSignal(worker.signals.cancelled, timeout=60_000):
        window.cancel_button.click()
    assert window.data is None
    assert not window.send_button.isEnabled()


def test_zone_of_local_times_can_be_chosen(
    qtbot: QtBot, context: AppContext, hh_samples: Path
) -> None:
    window = _preview(qtbot, context, hh_samples / "stark-portal.csv")
    _load(qtbot, window)
    london = window.data.mapped["time"].max()
    assert str(london) == "2024-07-11 23:00:00+00:00"  # 11/07/24's 00:00 label, BST
    with qtbot.waitSignals([window.loaded, window.settled], timeout=60_000):
        window.zone_box.setCurrentIndex(window.zone_box.findData("UTC"))
    assert window.options() == {"tz": "UTC"}
    # July: London is on BST (UTC+1), so the same wall-clock label is one hour later in UTC.
    assert window.data.mapped["time"].max() - london == pd.Timedelta(hours=1)


def test_a_file_that_cannot_be_read_says_why(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    page = tmp_path / "export.csv"
    page.write_text("<html><body>Your session has expired</body></html>\n", encoding="utf-8")
    uk = Candidate(context.registry.get("uk-hh"), 0.5)
    window = PreviewWindow(page, [uk], context.mapping_table())
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.load_failed, timeout=30_000) as failed:
        window.start()
    assert "export.csv" in failed.args[0]
    assert window.progress_label.text().startswith("Cannot read this file: ")
    assert not window.send_button.isEnabled() and window.data is None


def test_the_preview_fits_a_laptop_says_what_it_read_with_and_escape_closes_it(
    qtbot: QtBot, context: AppContext, hh_samples: Path, tmp_path: Path
) -> None:
    from PySide6.QtCore import QRect

    from app.ui.preview.parts import fitted

    laptop = QRect(0, 0, 1366, 728)  # 1366×768 less a 40-pixel taskbar
    placed = fitted(laptop)
    assert laptop.contains(placed.adjusted(0, -40, 0, 0))  # title bar included
    long_name = tmp_path / ("a-very-long-export-name-from-the-collector-" * 4 + ".df2")
    long_name.write_bytes((hh_samples / "stark.df2").read_bytes())
    window = _preview(qtbot, context, long_name)
    assert window.minimumSizeHint().width() < 1000  # a long name does not widen the window
    _load(qtbot, window)
    assert window.read_with.text() == "Layout: Stark .df2 line file · times: UTC"
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isVisible()


def test_read_as_shows_the_whole_connector_name_and_the_header_fits_a_laptop(
    qtbot: QtBot, context: AppContext, hh_samples: Path
) -> None:
    window = _preview(qtbot, context, hh_samples / "banes.csv")
    box = window.connector_box
    name = window.candidates[0].connector.info.name
    assert box.currentText().startswith(f"{name} (") and box.currentText().endswith("% sure)")
    wanted = box.fontMetrics().horizontalAdvance(box.currentText())
    assert box.sizeHint().width() >= wanted  # sized to its text: nothing cut off
    assert window.minimumSizeHint().width() < 1366 - 16


def test_a_very_long_connector_name_is_shortened_in_its_middle() -> None:
    from PySide6.QtWidgets import QComboBox

    from app.ui.preview.parts import READ_AS_MAX_PX, fill_read_as

    box = QComboBox()
    long_name = "Generic CSV: " + "a very long description of a custom layout " * 4 + "(end)"
    fill_read_as(box, [(long_name, 0.42)])
    shown = box.itemText(0)
    assert "…" in shown and shown.startswith("Generic CSV") and shown.endswith("(end) (42% sure)")
    assert box.fontMetrics().horizontalAdvance(shown) <= READ_AS_MAX_PX + 2
    assert box.itemData(0, Qt.ItemDataRole.ToolTipRole) == f"{long_name} (42% sure)"


def test_the_unmapped_warning_speaks_the_users_words(
    qtbot: QtBot, context: AppContext, hh_samples: Path
) -> None:
    window = _preview(qtbot, context, hh_samples / "imserv.csv")
    _load(qtbot, window)
    texts = [window.warnings.item(i).text() for i in range(window.warnings.count())]
    unmapped = next(t for t in texts if "not mapped" in t)
    assert "10545307" in unmapped and "Map unmapped sources" in unmapped
    for programmer_words in ("default codes", "source id", "mapping row", "import_id"):
        assert programmer_words not in unmapped


def test_warnings_read_in_plain_words_and_one_click_shows_the_row(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    spiky = BASE.copy()
    spiky[30] = 120.0
    rows = [
        day_row("1000000000001", "01/06/2025", BASE),
        day_row("1000000000002", "01/06/2025", BASE),
        day_row("1000000000002", "02/06/2025", spiky),
    ]
    path = tmp_path / "two-meters.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    window = _preview(qtbot, context, path)
    _load(qtbot, window)
    texts = [window.warnings.item(i).text() for i in range(window.warnings.count())]
    labels = [text.split(":", 1)[0] for text in texts]
    assert "Unusual jump" in labels and "Not mapped yet" in labels
    codes = ("spike", "unmapped", "gap before", "negative", "duplicate", "held back")
    assert not [text for text in texts if text.lower().startswith(codes)]
    window.only_flagged.setChecked(True)
    assert window.model.rowCount() == 1  # "Not mapped yet" alone shows no row
    assert window.model.data(window.model.index(0, COLUMN["flags"])).startswith("Unusual jump")
    assert window.chart.picker.currentIndex() == 0  # the first meter is charted first
    item = window.warnings.item(labels.index("Unusual jump"))
    qtbot.mouseClick(
        window.warnings.viewport(),
        Qt.MouseButton.LeftButton,
        pos=window.warnings.visualItemRect(item).center(),
    )
    shown = window.view.selectionModel().selectedRows()[0].row()
    assert window.model.cell_text(window.model.source_row(shown), "value") == "120.000"
    assert "1000000000002" in window.chart.picker.currentText()
