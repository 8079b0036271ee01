"""The preview names a channel read at irregular times as not checked for missing readings,
beside a regular channel's gap, so its silence is never read as "no gaps"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.ui.context import AppContext
from tests.ui.app_setup import open_preview

START = pd.Timestamp("2026-03-28T12:00Z")


def _write(path: Path) -> Path:
    """A generic CSV: GAPPY every half hour with 02:00-02:30 missing, IRREGULAR every 1 to 60
    minutes (to the second)."""
    regular = pd.date_range(START, periods=200, freq="30min").delete([28, 29])
    steps = np.random.default_rng(3).integers(60, 3600, 300)
    irregular = START + pd.to_timedelta(np.cumsum(steps), unit="s")
    rows = [("GAPPY", t, 2.0) for t in regular] + [("IRREGULAR", t, 1.5) for t in irregular]
    frame = pd.DataFrame(rows, columns=["meter", "time", "kwh"])
    frame["time"] = frame["time"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(path, index=False)
    return path


def test_an_irregular_channel_and_a_gap_are_both_named(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    window = open_preview(qtbot, context, _write(tmp_path / "two-meters.csv"))
    texts = [window.warnings.item(i).text() for i in range(window.warnings.count())]
    assert "Readings missing: GAPPY (kWh): 2 reading(s) missing from 2026-03-29 02:00 UTC " \
        "(one every 30 min)" in texts  # fmt: skip
    not_checked = [t for t in texts if t.startswith("Not checked for missing readings: ")]
    assert not_checked == [
        "Not checked for missing readings: IRREGULAR (kWh): its readings come at irregular "
        "times (more than 100 different steps between them, none of them half of the steps), "
        "so its interval could not be inferred"
    ]
    assert not any("No warnings" in t for t in texts)
    item = window.warnings.item(texts.index(not_checked[0]))
    qtbot.mouseClick(
        window.warnings.viewport(),
        Qt.MouseButton.LeftButton,
        pos=window.warnings.visualItemRect(item).center(),
    )
    shown = window.model.source_row(window.view.selectionModel().selectedRows()[0].row())
    assert window.model.cell_text(shown, "source_id") == "IRREGULAR"
    assert window.model.cell_text(shown, "time").startswith("2026-03-28")
    assert "IRREGULAR" in window.chart.picker.currentText()
