"""Render meterbridge's app icon (resources/meterbridge.png and .ico) with Qt.

QT_QPA_PLATFORM=offscreen .venv/bin/python tools/make_icon.py
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


def render(size: int) -> QImage:
    """The icon at `size` pixels: a rounded tile with a meter trace crossing a bridge."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 64.0
    p.setBrush(QColor("#0B6E4F"))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(2 * s, 2 * s, 60 * s, 60 * s), 12 * s, 12 * s)
    arch = QPainterPath(QPointF(10 * s, 46 * s))
    arch.quadTo(QPointF(32 * s, 20 * s), QPointF(54 * s, 46 * s))
    p.setPen(QPen(QColor("#BFE8D6"), 4 * s))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPath(arch)
    p.drawLine(QPointF(8 * s, 46 * s), QPointF(56 * s, 46 * s))
    trace = [(10, 34), (18, 30), (24, 36), (30, 18), (36, 40), (42, 26), (48, 30), (54, 22)]
    p.setPen(QPen(QColor("#FFD166"), 3.5 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for (x1, y1), (x2, y2) in itertools.pairwise(trace):
        p.drawLine(QPointF(x1 * s, y1 * s), QPointF(x2 * s, y2 * s))
    p.end()
    return image


def main() -> int:
    """Write the PNG (256 px) and the ICO (256 px; Windows scales it)."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv)
    RESOURCES.mkdir(exist_ok=True)
    big = render(256)
    ok = big.save(str(RESOURCES / "meterbridge.png")) and big.save(
        str(RESOURCES / "meterbridge.ico")
    )
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
