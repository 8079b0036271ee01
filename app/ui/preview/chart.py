"""A chart per channel of the preview (pyqtgraph: fast with millions of points)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette, QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.core.preview.checks import Flag
from app.core.preview.columns import channel_slices


class ChannelChart(QWidget):
    """A channel picker and a time-series plot of the chosen channel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picker = QComboBox()
        self.picker.setAccessibleName("Channel to chart")
        self.picker.setMinimumContentsLength(30)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.plot.setAccessibleName("Chart of the chosen channel")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setLabel("bottom", "time (UTC)")
        self._follow_palette()
        self.summary = QLabel()
        self.summary.setAccessibleName("Channel summary")
        top = QHBoxLayout()
        label = QLabel("&Channel:")
        label.setBuddy(self.picker)
        top.addWidget(label)
        top.addWidget(self.picker, 1)
        top.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self._mapped: pd.DataFrame | None = None
        self._flags: np.ndarray[Any, Any] | None = None
        self._slices: list[tuple[str, slice]] = []
        self._stale = False
        self.picker.currentIndexChanged.connect(self._on_picker_changed)

    def set_data(
        self,
        mapped: pd.DataFrame,
        flags: np.ndarray[Any, Any],
        slices: list[tuple[str, slice]] | None = None,
    ) -> None:
        """Show the channels of `mapped` (sorted by source, quantity, time)."""
        self._mapped, self._flags = mapped, flags
        self._slices = channel_slices(mapped) if slices is None else slices
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItems([label for label, _ in self._slices])
        self.picker.blockSignals(False)
        # Drawn when first seen: a hidden chart costs the GUI thread nothing.
        self._stale = True
        if self.isVisible():
            self._draw()

    def showEvent(self, event: QShowEvent) -> None:
        """Draw a chart whose data arrived while it was hidden."""
        super().showEvent(event)
        if self._stale:
            self._draw()

    def _draw(self) -> None:
        self._stale = False
        self._on_picker_changed(self.picker.currentIndex())

    def _follow_palette(self) -> None:
        """Chart background and axes in the window's colours (light or dark)."""
        palette = self.palette()
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))

    def changeEvent(self, event: QEvent) -> None:
        """Re-colour when the theme changes."""
        if event.type() == QEvent.Type.PaletteChange:
            self._follow_palette()
        super().changeEvent(event)

    def show_row(self, frame_row: int) -> bool:
        """Chart the channel that frame row `frame_row` belongs to; False if none does."""
        for number, (_label, part) in enumerate(self._slices):
            if (part.start or 0) <= frame_row < (part.stop if part.stop is not None else -1):
                self.picker.setCurrentIndex(number)
                return True
        return False

    def channel_count(self) -> int:
        """How many channels can be charted."""
        return len(self._slices)

    def _on_picker_changed(self, number: int) -> None:
        self.plot.clear()
        if self._mapped is None or not 0 <= number < len(self._slices):
            self.summary.setText("No readings to chart.")
            return
        part = self._slices[number][1]
        frame = self._mapped.iloc[part]
        x = frame["time"].to_numpy(dtype="datetime64[ns]").astype("int64") / 1e9
        y = frame["value"].to_numpy(dtype="float64")
        self.plot.plot(x, y, pen=pg.mkPen((38, 139, 210), width=1.5), connect="finite")
        self._mark(x, y, part, Flag.SPIKE | Flag.NEGATIVE | Flag.DUPLICATE, (220, 50, 47))
        self._mark(x, y, part, Flag.GAP, (181, 137, 0))
        unit = frame["unit_code"].iat[0] if len(frame) else ""
        self.plot.setLabel("left", str(unit))
        self.summary.setText(f"{len(frame):,} readings, total {np.nansum(y):,.1f} {unit}")
        self.plot.enableAutoRange()

    def _mark(
        self, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], part: slice, flag: int, rgb: Any
    ) -> None:
        if self._flags is None:
            return
        hit = (self._flags[part] & flag) != 0
        if bool(hit.any()):
            self.plot.plot(
                x[hit], y[hit], pen=None, symbol="o", symbolSize=7, symbolBrush=pg.mkBrush(*rgb)
            )
