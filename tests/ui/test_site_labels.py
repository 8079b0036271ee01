"""Site names from the file beside the meter ids: preview table, chart, mapping editor, saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.mapping import MappingRow, MappingTable, load_mapping
from app.core.preview.data import PreviewRequest, load_preview
from app.ui.context import AppContext
from app.ui.mapping.editor import COLUMN as EDITOR_COLUMN
from app.ui.preview.model import COLUMN
from app.ui.preview.window import PreviewWindow
from app.ui.window.main_window import MainWindow
from connectors.base import Source
from tests.ui.app_setup import open_preview

SCHOOL_1, SCHOOL_2 = "2200012767323", "2200012833358"


def _banes_from_the_main_window(
    qtbot: QtBot, context: AppContext, hh_samples: Path
) -> tuple[MainWindow, PreviewWindow]:
    """The main window and the BANES sample's preview it opened, once its data is read."""
    window = MainWindow(context)
    qtbot.addWidget(window)
    preview = window.open_path(hh_samples / "banes.csv")
    assert preview is not None
    qtbot.addWidget(preview)
    qtbot.waitUntil(lambda: preview.data is not None, timeout=30_000)
    return window, preview


def _sites(window: PreviewWindow) -> dict[str, str]:
    model = window.model
    assert model is not None
    return {
        model.cell_text(r, "source_id"): model.cell_text(r, "label")
        for r in range(model.rowCount())
    }


def test_the_preview_shows_each_meters_site_beside_its_id(
    qtbot: QtBot, context: AppContext, hh_samples: Path
) -> None:
    window = open_preview(qtbot, context, hh_samples / "banes.csv")
    assert _sites(window) == {SCHOOL_1: "School 1", SCHOOL_2: "School 2"}
    assert not window.view.isColumnHidden(COLUMN["label"])
    assert COLUMN["label"] == COLUMN["source_id"] + 1  # beside the id
    picker = window.chart.picker
    titles = [picker.itemText(i) for i in range(picker.count())]
    assert titles == [f"{SCHOOL_1} (School 1) · kWh", f"{SCHOOL_2} (School 2) · kWh"]


def test_a_file_without_site_names_shows_no_empty_site_column(
    qtbot: QtBot, context: AppContext, hh_samples: Path
) -> None:
    window = open_preview(qtbot, context, hh_samples / "imserv.csv")
    assert window.view.isColumnHidden(COLUMN["label"])
    assert set(_sites(window).values()) == {""}


def test_mapping_from_the_preview_keeps_the_site_names_as_labels(
    qtbot: QtBot, context: AppContext, hh_samples: Path
) -> None:
    window, preview = _banes_from_the_main_window(qtbot, context, hh_samples)
    editor = window.actions_.map_sources(preview, preview.unmapped())
    qtbot.addWidget(editor)
    rows = {editor._cell(r, "source_id"): r for r in range(editor.table.rowCount())}
    assert editor._cell(rows[SCHOOL_1], "label") == "School 1"
    assert editor._cell(rows[SCHOOL_2], "label") == "School 2"
    assert EDITOR_COLUMN["label"] == EDITOR_COLUMN["source_id"] + 1
    assert editor.table.horizontalHeaderItem(EDITOR_COLUMN["label"]).text() == "Site (label)"
    editor.table.item(rows[SCHOOL_1], EDITOR_COLUMN["channel_import_id"]).setText("SCHOOL1-HH")
    with qtbot.waitSignal(preview.loaded, timeout=30_000):
        assert editor.save()
    saved = load_mapping(context.settings.mapping_file)
    assert saved.rows == [  # the row left to the default keeps its site name too
        MappingRow(SCHOOL_1, "kWh", channel_import_id="SCHOOL1-HH", label="School 1"),
        MappingRow(SCHOOL_2, "kWh", label="School 2"),
    ]
    assert "School 1" in Path(context.settings.mapping_file).read_text(encoding="utf-8")
    assert [source for source, _ in preview.unmapped()] == [SCHOOL_2]  # still to be mapped


def test_a_mapping_label_names_a_source_whose_file_has_no_site_column(hh_samples: Path) -> None:
    from connectors.tabular.engine import UkHalfHourlyConnector

    table = MappingTable(rows=[MappingRow("10545307", channel_import_id="X", label="Depot")])
    source = Source.from_path(hh_samples / "imserv.csv")
    data = load_preview(PreviewRequest(UkHalfHourlyConnector(), source, {}, table))
    assert data.label_of("10545307") == "Depot"
    assert data.slices[0][0] == "10545307 (Depot) · kWh"


def test_the_real_banes_export_previews_with_its_school_names(
    qtbot: QtBot, context: AppContext, shared_sample: Any
) -> None:
    path = shared_sample("uk-hh/energysparks_banes_0030-to-2400_mpan-at-end.csv")
    window = open_preview(qtbot, context, path)
    sites = _sites(window)
    assert sites[SCHOOL_1] == "Bathford C of E Primary School Electrici"
    assert all(sites.values())


def test_a_label_typed_in_the_mapping_wins_over_the_files_site_name_everywhere(
    qtbot: QtBot, context: AppContext, hh_samples: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.csv"  # as the editor saves it: a label, no target yet
    mapping.write_text(
        MappingTable(rows=[MappingRow(SCHOOL_1, "kWh", label="Kitchen block")]).to_csv(),
        encoding="utf-8",
    )
    context.settings.mapping_file = str(mapping)
    window, preview = _banes_from_the_main_window(qtbot, context, hh_samples)
    assert _sites(preview) == {SCHOOL_1: "Kitchen block", SCHOOL_2: "School 2"}
    model = preview.model
    assert model is not None
    first = next(r for r in range(model.rowCount()) if model.cell_text(r, "source_id") == SCHOOL_1)
    note = model.index(first, COLUMN["label"]).data(Qt.ItemDataRole.ToolTipRole)
    assert "“School 1”" in note  # the file's own name is still there, behind the label
    picker = preview.chart.picker
    assert [picker.itemText(i) for i in range(picker.count())] == [
        f"{SCHOOL_1} (Kitchen block) · kWh",
        f"{SCHOOL_2} (School 2) · kWh",
    ]
    editor = window.actions_.map_sources(preview, preview.unmapped())
    qtbot.addWidget(editor)
    labels = {
        editor._cell(r, "source_id"): editor._cell(r, "label")
        for r in range(editor.table.rowCount())
    }
    assert labels == {SCHOOL_1: "Kitchen block", SCHOOL_2: "School 2"}


def test_the_users_label_wins_over_a_stark_files_site_name(hh_samples: Path) -> None:
    from connectors.tabular.engine import UkHalfHourlyConnector

    source = Source.from_path(hh_samples / "stark-portal.csv")
    plain = load_preview(PreviewRequest(UkHalfHourlyConnector(), source, {}, MappingTable()))
    meter, in_file = next(iter(plain.labels.items()))  # the file's `Site Name`
    table = MappingTable(rows=[MappingRow(meter, label="Boiler house")])
    data = load_preview(PreviewRequest(UkHalfHourlyConnector(), source, {}, table))
    assert data.label_of(meter) == "Boiler house"
    assert data.file_labels[meter] == in_file
    assert any(title.startswith(f"{meter} (Boiler house)") for title, _ in data.slices)
