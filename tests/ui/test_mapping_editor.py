"""The mapping editor: import/export round-trip, plain errors, EnergyCAP's own lists."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.mapping import parse_mapping_csv
from app.ui.context import API_KEY_SECRET, AppContext
from app.ui.mapping.editor import COLUMN, MappingEditor
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.energycap_model import FakeChannel

MAPPING = (
    "source_id,quantity,channel_import_id,meter_import_id,channel_id,observation_type,unit,"
    "multiplier\n"
    """2336533093112,kWh,C-MAIN,,,Use,kWh,
2336533093112,kVArh,,M-REACT,,,,0.001
000D6F0001A303D4_333,,,,4711,,,2.5
"""
)


def _editor(qtbot: QtBot, context: AppContext) -> MappingEditor:
    editor = MappingEditor(context)
    qtbot.addWidget(editor)
    editor.show()
    return editor


def test_import_export_round_trip(qtbot: QtBot, context: AppContext, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(MAPPING, encoding="utf-8")
    editor = _editor(qtbot, context)
    assert editor.import_csv(source)
    assert editor.table.rowCount() == 3
    assert editor.table.item(1, COLUMN["meter_import_id"]).text() == "M-REACT"
    out = tmp_path / "out.csv"
    assert editor.export_csv(out)
    assert parse_mapping_csv(out.read_text(encoding="utf-8")) == parse_mapping_csv(MAPPING)


def test_each_row_is_checked_as_edited_the_bad_cell_red_in_plain_words(
    qtbot: QtBot, context: AppContext, tmp_path
) -> None:
    from app.ui.mapping.editor import COLUMN

    editor = _editor(qtbot, context)
    row = editor.add_row({"source_id": "MPAN9", "channel_id": "1"})
    editor.add_row({"source_id": "2200012767323", "quantity": "kWh"})  # no target: the default
    cell = editor.table.item(row, COLUMN["channel_id"])
    cell.setText("12x")  # as typed
    assert editor.status.text() == (
        "Row 1: The channel id is a whole number (EnergyCAP's own), not “12x”."
    )
    assert cell.background().color().alpha() > 0 and "whole number" in cell.toolTip()
    assert not editor.export_csv(tmp_path / "bad.csv")
    assert editor.status.text().startswith("Not saved: Row 1:")
    assert not (tmp_path / "bad.csv").exists()
    cell.setText("12")
    assert editor.status.text() == "Row 1 is fine."
    assert cell.background().style() == Qt.BrushStyle.NoBrush and cell.toolTip() == ""
    assert editor.export_csv(tmp_path / "good.csv")  # the row without a target is allowed
    saved = parse_mapping_csv((tmp_path / "good.csv").read_text("utf-8"))
    kept = next(r for r in saved.rows if r.source_id == "2200012767323")  # kept, target-less
    assert (kept.quantity, kept.channel_import_id, kept.meter_import_id) == ("kWh", None, None)
    editor.fit_columns()
    source = editor.table.item(1, COLUMN["source_id"])
    width = editor.table.fontMetrics().horizontalAdvance(source.text())
    assert editor.table.columnWidth(COLUMN["source_id"]) > width  # the whole MPAN shows


def test_closing_with_unsaved_edits_asks_first(qtbot: QtBot, context: AppContext) -> None:
    editor = _editor(qtbot, context)
    editor.show()
    editor.add_row({"source_id": "S1", "meter_import_id": "M1"})
    editor.close()
    assert editor.isVisible()  # not closed: a question is open
    question = editor.guard.question
    assert "not saved" in question.text()
    question.button(question.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not editor.isVisible())
    assert not editor.guard.dirty


def test_bad_file_is_refused_with_the_reason(qtbot: QtBot, context: AppContext, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("meter,channel\nA,B\n", encoding="utf-8")
    editor = _editor(qtbot, context)
    assert not editor.import_csv(bad)
    assert (
        editor.status.text() == "Not imported: bad.csv has no source_id column in its first line."
    )
    assert editor.status.details_button.isVisible()  # the parser's own words behind Details…
    assert "must have a source_id column" in editor.status.details
    box = editor.status.show_details()
    assert "must have a source_id column" in box.detailedText()
    box.close()


def test_a_row_with_two_targets_is_refused_in_plain_words(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    bad = tmp_path / "two-targets.csv"
    bad.write_text("source_id,channel_id,meter_import_id\nA,1,M1\n", encoding="utf-8")
    editor = _editor(qtbot, context)
    assert not editor.import_csv(bad)
    assert editor.status.text() == (
        "Not imported: Line 2 of two-targets.csv needs at most one target: a channel import id, "
        "a meter import id or a channel id."
    )
    assert "channel_import_id" not in editor.status.text()  # programmer words stay in Details


def test_save_makes_it_the_mapping_in_use(qtbot: QtBot, context: AppContext, tmp_path) -> None:
    editor = _editor(qtbot, context)
    editor.path = tmp_path / "mapping.csv"
    editor.add_row({"source_id": "S1", "meter_import_id": "M1"})
    with qtbot.waitSignal(editor.saved):
        assert editor.save()
    assert context.settings.mapping_file == str(tmp_path / "mapping.csv")
    assert [r.meter_import_id for r in context.mapping_table().rows] == ["M1"]


def test_a_site_name_on_a_row_without_a_target_is_saved_and_comes_back(
    qtbot: QtBot, context: AppContext
) -> None:
    editor = _editor(qtbot, context)
    editor.add_row({"source_id": "2200012767323", "channel_import_id": "SCHOOL1-HH"})
    editor.add_row({"source_id": "2000006183919"})  # no target: it uses the default
    editor.table.item(1, COLUMN["label"]).setText("Freshford C of E Primary")
    assert editor.guard.first_problem() is None  # allowed as it is
    assert editor.save()
    table = context.mapping_table()
    assert table.labels() == {"2000006183919": "Freshford C of E Primary"}
    assert [r.channel_import_id for r in table.rows] == ["SCHOOL1-HH", None]
    editor.guard.dirty = False
    editor.close()
    again = _editor(qtbot, context)  # opened again: the label is still there
    sources = [again.table.item(r, 0).text() for r in range(again.table.rowCount())]
    row = sources.index("2000006183919")
    assert again.table.item(row, COLUMN["label"]).text() == "Freshford C of E Primary"


def test_targets_picked_from_energycap_lists(
    qtbot: QtBot, context: AppContext, energycap: FakeEnergyCap
) -> None:
    energycap.add_meter(
        7, "M-SITE", [FakeChannel(71, "C-SITE-KWH", "Use", "kWh", 1800)], "Europe/London"
    )
    context.settings.energycap.url = energycap.url
    context.secrets.set(API_KEY_SECRET, "test-key")
    editor = _editor(qtbot, context)
    with qtbot.waitSignal(editor.catalog_loaded, timeout=20_000) as loaded:
        editor.fetch_catalog()
    catalog = loaded.args[0]
    assert [m.import_id for m in catalog.meters] == ["M-SITE"]
    assert "Use" in catalog.observation_types and "kWh" in catalog.units
    with qtbot.waitSignal(editor.pane.channels_loaded, timeout=20_000):
        editor.pane.expand_meter(0)  # import ids come per meter
    assert editor.pane.channel_text(0, 0, 1) == "C-SITE-KWH"
    row = editor.add_row({"source_id": "2336533093112", "quantity": "kWh"})
    editor.assign(row, editor.catalog.meters[0].channels[0])
    table = editor.checked_table()
    assert table is not None
    assert table.rows[0].channel_import_id == "C-SITE-KWH"
    assert (table.rows[0].observation_type, table.rows[0].unit) == ("Use", "kWh")


def test_the_register_column_is_labelled_and_offers_raw(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    """A row can send a register's values raw; the choice survives export."""
    from PySide6.QtWidgets import QComboBox

    editor = _editor(qtbot, context)
    column = COLUMN["register"]
    assert editor.table.horizontalHeaderItem(column).text() == "Register"
    row = editor.add_row({"source_id": "000D6F0001A303D4_333", "meter_import_id": "M1"})
    index = editor.table.model().index(row, column)
    box = editor.register_delegate.createEditor(editor.table.viewport(), None, index)  # type: ignore[arg-type]
    assert isinstance(box, QComboBox)
    assert [box.itemText(i) for i in range(box.count())] == ["", "difference", "raw"]
    box.setCurrentText("raw")
    editor.register_delegate.setModelData(box, editor.table.model(), index)
    out = tmp_path / "out.csv"
    assert editor.export_csv(out)
    assert parse_mapping_csv(out.read_text(encoding="utf-8")).raw_sources() == {
        "000D6F0001A303D4_333"
    }
