"""Pieces of the preview window: its top row, where it opens, what it says it read with."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QStatusBar

from app.core.sources.validation import common_timezones
from app.ui.elided_label import ElidedLabel
from app.ui.plain_errors import show_details_box

PREFERRED_SIZE = (1180, 760)
FRAME_ALLOWANCE = (16, 48)  # window borders and title bar, added by the window manager
READ_AS_MAX_PX = 380  # the widest “Read as” text: the header still fits a 1366-pixel screen


def fitted(available: QRect, preferred: tuple[int, int] = PREFERRED_SIZE) -> QRect:
    """The preferred size shrunk into `available` (the screen less its taskbar), centred."""
    width = min(preferred[0], available.width() - FRAME_ALLOWANCE[0])
    height = min(preferred[1], available.height() - FRAME_ALLOWANCE[1])
    left = available.left() + (available.width() - width) // 2
    top = available.top() + max(0, (available.height() - height - FRAME_ALLOWANCE[1]) // 2)
    return QRect(left, top + FRAME_ALLOWANCE[1] - 8, width, height)


def layout_title(name: str) -> str:
    """The short title of a UK HH layout (“BANES”, “IMServ”), else its name."""
    from connectors.tabular.df2 import DF2_LAYOUT
    from connectors.tabular.layout import layout_by_name

    try:
        layout = DF2_LAYOUT if name == DF2_LAYOUT.name else layout_by_name(name)
    except (KeyError, ValueError, AttributeError):
        return name
    return layout.title.split(" (")[0]


def read_with_text(info: dict[str, Any]) -> str:
    """“Layout: BANES · times: Europe/London” from what the connector said it used."""
    parts = []
    if info.get("layout"):
        parts.append(f"Layout: {layout_title(str(info['layout']))}")
    if info.get("tz"):
        parts.append(f"times: {info['tz']}")
    return " · ".join(parts)


def fill_read_as(box: QComboBox, choices: list[tuple[str, float]]) -> None:
    """The connectors a file can be read as, each whole (“UK half-hourly (48/50-column CSV)
    (97% sure)”); a name too long for a laptop's header is shortened in its middle, never
    its “(… sure)”, and the whole name is the item's tooltip."""
    metrics = box.fontMetrics()
    for name, score in choices:
        sure = f" ({score:.0%} sure)"
        room = READ_AS_MAX_PX - metrics.horizontalAdvance(sure)
        shown = metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, room) + sure
        box.addItem(shown)
        box.setItemData(box.count() - 1, name + sure, Qt.ItemDataRole.ToolTipRole)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)


def build_header(self: Any) -> QHBoxLayout:
    """The preview window's top row: file name, Read as, Times in, and the layout and zone used."""
    row = QHBoxLayout()
    self.file_label = ElidedLabel(self.path.name)  # a long name must not widen the window
    self.file_label.setAccessibleName("File")
    self.file_label.setToolTip(str(self.path))
    bold = self.file_label.font()
    bold.setBold(True)
    self.file_label.setFont(bold)
    self.file_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    self.file_label.setMinimumWidth(120)
    self.connector_box = QComboBox()
    self.connector_box.setAccessibleName("Read as")
    fill_read_as(self.connector_box, [(c.connector.info.name, c.score) for c in self.candidates])
    self.connector_box.currentIndexChanged.connect(lambda _i: self.start())
    label = QLabel("Read &as:")
    label.setBuddy(self.connector_box)
    self.zone_box = QComboBox()
    self.zone_box.setAccessibleName("Time zone of the file's local times")
    self.zone_box.setToolTip("The zone the file's times are in when it does not say")
    self.zone_box.addItem("as the format says", "")
    for zone in common_timezones()[:9]:
        self.zone_box.addItem(zone, zone)
    self.zone_box.currentIndexChanged.connect(lambda _i: self.start())
    zone_label = QLabel("&Times in:")
    zone_label.setBuddy(self.zone_box)
    self.summary = QLabel("")  # shown in the status bar
    self.summary.setAccessibleName("Summary")
    self.read_with = QLabel("")
    self.read_with.setAccessibleName("Layout and time zone used")
    row.addWidget(self.file_label, 1)
    row.addSpacing(12)
    row.addWidget(label)
    row.addWidget(self.connector_box)
    row.addSpacing(8)
    row.addWidget(zone_label)
    row.addWidget(self.zone_box)
    row.addSpacing(8)
    row.addWidget(self.read_with)
    return row


def build_status_bar(self: Any) -> QStatusBar:
    """The preview's status bar: the message (elided), Details… for an error, the summary."""
    self.status = QStatusBar()
    self.status.setAccessibleName("Preview messages")
    self.status.setSizeGripEnabled(False)
    self.message = ElidedLabel("")
    self.message.setAccessibleName("Preview message")
    self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    self.status.addWidget(self.message, 1)
    self.details = ""
    self.details_button = QPushButton("Details…")
    self.details_button.setAccessibleName("Details of the message")
    self.details_button.clicked.connect(
        lambda: show_details_box(self, self.message.text(), self.details)
    )
    self.details_button.hide()
    self.status.addWidget(self.details_button)
    self.status.addPermanentWidget(self.summary)
    return self.status
