"""A form generated from a settings dataclass's field metadata (label, help).

Values are shown as people think of them: sizes in MB or GB (stored in bytes),
days as whole numbers; the values few people change sit under “Advanced”.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

INT32_MAX = 2**31 - 1
MB, GB = 1_000_000, 1_000_000_000
# Fields most people never change (limits, retries, timeouts, TLS): folded under "Advanced".
ADVANCED = frozenset({
    "max_body_bytes", "max_connections", "idle_timeout_s", "body_timeout_s", "capture_max_count",
    "capture_max_bytes", "tls_cert", "tls_key", "public_host", "max_attempts", "backoff_base_s",
    "backoff_cap_s", "timeout_s", "task_poll_s", "task_timeout_s", "batch_size",
    "import_batch", "outage_patience_s", "max_bytes", "allow_lan", "host",
})  # fmt: skip


def size_editor(value: int) -> QDoubleSpinBox:
    """Bytes shown in GB (from 1 GB) or MB, with the unit written after the number."""
    unit, scale = ("GB", GB) if value >= GB else ("MB", MB)
    box = QDoubleSpinBox()
    box.setDecimals(1 if unit == "GB" else 0)
    box.setRange(0.0, 1e6)
    box.setSuffix(f" {unit}")
    box.setValue(value / scale)
    box.setProperty("scale", scale)
    box.setProperty("shown", box.value())  # unchanged on screen: the exact bytes are kept
    return box


class DataclassForm(QWidget):
    """Edits the simple fields (bool, int, float, str) of one settings section."""

    def __init__(self, section: Any, skip: tuple[str, ...] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.section = section
        self.editors: dict[str, QWidget] = {}
        outer = QVBoxLayout(self)
        basic = QFormLayout()
        basic.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.advanced = QWidget()
        self.advanced.setAccessibleName("Advanced settings")
        advanced = QFormLayout(self.advanced)
        advanced.setContentsMargins(0, 0, 0, 0)
        for f in fields(section):
            if f.name in skip or f.metadata.get("secret"):
                continue
            editor = self._editor(f.name, getattr(section, f.name))
            if editor is not None:
                self._add(advanced if f.name in ADVANCED else basic, f, editor)
        outer.addLayout(basic)
        self.more = QToolButton()
        self.more.setText("Advanced ▸")
        self.more.setAccessibleName("Show advanced settings")
        self.more.setCheckable(True)
        self.more.toggled.connect(self._on_more_toggled)
        self.more.setVisible(advanced.rowCount() > 0)
        outer.addWidget(self.more)
        outer.addWidget(self.advanced)
        outer.addStretch(1)
        self.advanced.hide()

    def _add(self, layout: QFormLayout, f: Any, editor: QWidget) -> None:
        label = str(f.metadata.get("label") or f.name.replace("_", " ").capitalize())
        label = label.replace(" (bytes)", "")  # the unit is written in the field
        editor.setAccessibleName(label)
        help_text = str(f.metadata.get("help", ""))
        if help_text:
            editor.setToolTip(help_text)
            editor.setAccessibleDescription(help_text)
        if isinstance(editor, QCheckBox):
            editor.setText(label)
            layout.addRow("", editor)
        else:
            caption = QLabel(label + ":")
            caption.setBuddy(editor)
            layout.addRow(caption, editor)
        self.editors[f.name] = editor

    def _on_more_toggled(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.more.setText("Advanced ▾" if shown else "Advanced ▸")

    @staticmethod
    def _editor(name: str, value: Any) -> QWidget | None:
        if isinstance(value, bool):
            box = QCheckBox()
            box.setChecked(value)
            return box
        if isinstance(value, int) and name.endswith("_bytes"):
            return size_editor(value)
        if isinstance(value, (int, float)) and name.endswith("_days"):
            days = QSpinBox()
            days.setRange(0, 36_500)
            days.setSuffix(" days")
            days.setValue(round(value))
            return days
        if isinstance(value, int) and value <= INT32_MAX:
            spin = QSpinBox()
            spin.setRange(0, INT32_MAX)
            spin.setValue(value)
            return spin
        if isinstance(value, float):
            dspin = QDoubleSpinBox()
            dspin.setRange(0.0, 1e9)
            dspin.setDecimals(1)
            dspin.setValue(value)
            return dspin
        if isinstance(value, str):
            return QLineEdit(value)
        return None

    def apply(self) -> None:
        """Write the edited values back into the section (sizes in bytes again)."""
        for name, editor in self.editors.items():
            if isinstance(editor, QCheckBox):
                setattr(self.section, name, editor.isChecked())
            elif isinstance(editor, QDoubleSpinBox) and editor.property("scale"):
                if editor.value() != editor.property("shown"):
                    setattr(self.section, name, round(editor.value() * editor.property("scale")))
            elif isinstance(editor, QSpinBox) and name.endswith("_days"):
                old = getattr(self.section, name)
                setattr(self.section, name, type(old)(editor.value()))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                setattr(self.section, name, editor.value())
            elif isinstance(editor, QLineEdit):
                setattr(self.section, name, editor.text().strip())
