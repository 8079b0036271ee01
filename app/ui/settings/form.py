"""A form generated from a settings dataclass's field metadata (label, help)."""

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
    QWidget,
)

INT32_MAX = 2**31 - 1


class DataclassForm(QWidget):
    """Edits the simple fields (bool, int, float, str) of one settings section."""

    def __init__(self, section: Any, skip: tuple[str, ...] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.section = section
        self.editors: dict[str, QWidget] = {}
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for f in fields(section):
            if f.name in skip or f.metadata.get("secret"):
                continue
            editor = self._editor(getattr(section, f.name))
            if editor is None:
                continue
            label = str(f.metadata.get("label") or f.name.replace("_", " ").capitalize())
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

    @staticmethod
    def _editor(value: Any) -> QWidget | None:
        if isinstance(value, bool):
            box = QCheckBox()
            box.setChecked(value)
            return box
        if isinstance(value, int) and value <= INT32_MAX:
            spin = QSpinBox()
            spin.setRange(0, INT32_MAX)
            spin.setValue(value)
            return spin
        if isinstance(value, int):  # byte limits exceed a QSpinBox's 32 bits
            big = QDoubleSpinBox()
            big.setDecimals(0)
            big.setRange(0.0, 1e15)
            big.setValue(float(value))
            big.setProperty("integer", True)
            return big
        if isinstance(value, float):
            dspin = QDoubleSpinBox()
            dspin.setRange(0.0, 1e9)
            dspin.setDecimals(2)
            dspin.setValue(value)
            return dspin
        if isinstance(value, str):
            return QLineEdit(value)
        return None

    def apply(self) -> None:
        """Write the edited values back into the section."""
        for name, editor in self.editors.items():
            if isinstance(editor, QCheckBox):
                setattr(self.section, name, editor.isChecked())
            elif isinstance(editor, QDoubleSpinBox) and editor.property("integer"):
                setattr(self.section, name, int(editor.value()))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                setattr(self.section, name, editor.value())
            elif isinstance(editor, QLineEdit):
                setattr(self.section, name, editor.text().strip())
