"""Field metadata of the settings sections: the label and help the settings dialog shows."""

from __future__ import annotations

from typing import Any


def meta(label: str, help: str = "", **extra: Any) -> dict[str, Any]:
    """Field metadata for the settings UI."""
    return {"label": label, "help": help, **extra}
