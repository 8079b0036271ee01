"""Filling a wizard page from a saved source (Edit): each setting into the field of that name."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox, QWidget

# Settings whose field has another name on its page (setting -> attribute).
FIELD_OF = {"cumulative": "registers", "timestamp": "stamp", "measure": "what"}
MINUTES = {"interval_s"}  # saved in seconds, typed in minutes (field `interval`)


def prefill_page(page: QWidget, name: str, settings: dict[str, Any]) -> None:
    """Put a saved source's name and settings into its source page.

    A page with its own ``load(settings)`` does it itself; otherwise each
    setting goes into the page's field of the same name (see `FIELD_OF`).
    """
    field = getattr(page, "name", None)
    if isinstance(field, QLineEdit):
        field.setText(name)
    if hasattr(page, "load"):
        page.load(settings)
        return
    for key, value in settings.items():
        if key in MINUTES:
            set_field(getattr(page, "interval", None), int(value) // 60)
            continue
        set_field(getattr(page, FIELD_OF.get(key, key), None), value)


def set_field(widget: Any, value: Any) -> None:
    """Show `value` in a line edit, combo box, spin box or check box (others are left)."""
    if isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QSpinBox):
        widget.setValue(int(value))
    elif isinstance(widget, QComboBox):
        index = combo_index(widget, value)
        if index < 0 and isinstance(value, str) and value:  # e.g. a zone beyond the short list
            widget.addItem(value)
            index = widget.count() - 1
        if index >= 0:
            widget.setCurrentIndex(index)
    elif isinstance(widget, QLineEdit):
        widget.setText(", ".join(map(str, value)) if isinstance(value, list) else str(value))


def combo_index(box: QComboBox, value: Any) -> int:
    """The item showing `value`: the same text (any case), else the first starting with it."""
    text = "tab" if value == "\t" else str(value).lower()
    items = [box.itemText(i).lower() for i in range(box.count())]
    if text in items:
        return items.index(text)
    return next((i for i, item in enumerate(items) if text and item.startswith(text)), -1)
