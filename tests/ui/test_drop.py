"""Dropping a file on the main window sniffs it, picks the connector and opens the preview."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui.context import AppContext
from app.ui.mapping.editor import COLUMN
from app.ui.window.main_window import MainWindow


def _drop(window: MainWindow, path: Path) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    centre = window.rect().center()
    enter = QDragEnterEvent(  # Qt's own signature: a QPoint (the drop takes a QPointF)
        centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(window, drop)
    return drop


def test_dropped_uk_file_opens_a_correct_preview(
    qtbot: QtBot, context: AppContext, hh_samples: Path
) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    sample = hh_samples / "banes.csv"
    with qtbot.waitSignal(window.preview_opened) as opened:
        _drop(window, sample)
    preview = opened.args[0]
    qtbot.addWidget(preview)
    with qtbot.waitSignals([preview.loaded, preview.settled], timeout=30_000):
        pass
    assert preview.windowTitle().endswith(sample.name)
    assert preview.candidates[0].connector.info.id == "uk-hh"
    assert preview.connector_box.currentText().startswith(preview.candidates[0].connector.info.name)
    data = preview.data
    assert data is not None and len(data.mapped) == preview.model.rowCount() == 2 * 48
    # The banes layout keys rows by the MPAN at the end of the row and labels periods by
    # their end: the second MPAN's (line 4) first value, 201 kWh, covers 00:00-00:30 BST
    # on 15 July 2024, which ends at 23:30 UTC the day before.
    first = data.mapped[data.mapped["source_id"] == "2200012833358"].iloc[0]
    assert str(first["time"]) == "2024-07-14 23:30:00+00:00"
    assert first["value"] == 201
    assert first["origin"] == "banes.csv:4:[00:30]"
    assert set(data.mapped["meter_import_id"]) == set(data.mapped["source_id"])


def test_dropping_an_unknown_file_says_so_plainly(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    garbage = tmp_path / "holiday.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    _drop(window, garbage)
    assert not window.banner.isHidden()
    assert "holiday.png is not a format meterbridge recognises" in window.banner.label.text()
    assert window.previews == []


def test_drag_of_non_files_is_refused(qtbot: QtBot, context: AppContext) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    mime = QMimeData()
    mime.setText("not a file")
    event = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(window, event)
    assert not event.isAccepted()


def test_unmapped_sources_are_mapped_from_the_preview(
    qtbot: QtBot, context: AppContext, hh_samples: Path, tmp_path: Path
) -> None:
    window = MainWindow(context)
    qtbot.addWidget(window)
    sample = hh_samples / "imserv.csv"
    with qtbot.waitSignal(window.preview_opened) as opened:
        _drop(window, sample)
    preview = opened.args[0]
    qtbot.addWidget(preview)
    qtbot.waitUntil(lambda: preview.data is not None, timeout=30_000)
    pairs = preview.unmapped()
    assert pairs[0][0] == "10545307" and len(pairs) == 1 and not preview.map_button.isHidden()
    editor = window.actions_.map_sources(preview, pairs)
    qtbot.addWidget(editor)
    row = editor.table.rowCount() - 1
    assert editor.table.item(row, 0).text() == pairs[0][0]
    editor.table.item(row, COLUMN["channel_import_id"]).setText("SITE-ELEC-HH")
    editor.path = tmp_path / "mapping.csv"
    with qtbot.waitSignals([preview.loaded, preview.settled], timeout=30_000):
        assert editor.save()
    assert preview.unmapped() == [] and preview.map_button.isHidden()
    assert set(preview.data.mapped["channel_import_id"]) == {"SITE-ELEC-HH"}
    assert len(preview.data.mapped) == 48
