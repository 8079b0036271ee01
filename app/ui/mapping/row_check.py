"""Check one mapping row as it is edited: the column at fault and a sentence in plain words.

The file parser (`app.core.mapping`) names file, line and column for the CLI; the
editor checks each row on its own so the bad cell can be highlighted at once.
A row without any target is fine: its readings go where the default sends them.
"""

from __future__ import annotations

import math

from app.core.mapping import REGISTER_MODES

TARGETS = ("channel_import_id", "meter_import_id", "channel_id")
TARGET_WORDS = "a channel import id, a meter import id or a channel id"


def row_problem(values: dict[str, str]) -> tuple[str, str] | None:
    """(column, sentence) of the first problem in a row, or None when the row can be saved."""
    cells = {k: (v or "").strip() for k, v in values.items()}
    if not any(cells.values()):
        return None  # an empty row is ignored
    if not cells.get("source_id"):
        return "source_id", "Give the source id: the meter or channel number as the file has it."
    given = [t for t in TARGETS if cells.get(t)]
    if len(given) > 1:
        return given[1], f"Give only one target: {TARGET_WORDS}, not {len(given)}."
    channel = cells.get("channel_id", "")
    if channel and not channel.isdigit():
        return "channel_id", f"The channel id is a whole number (EnergyCAP's own), not “{channel}”."
    return _multiplier_problem(cells.get("multiplier", "")) or _register_problem(
        cells.get("register", "")
    )


def _multiplier_problem(text: str) -> tuple[str, str] | None:
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        return "multiplier", f"The multiplier is a number such as 1 or 0.001, not “{text}”."
    return None


def _register_problem(text: str) -> tuple[str, str] | None:
    if text and text.lower() not in REGISTER_MODES:
        modes = " or ".join(REGISTER_MODES)
        return "register", f"Register is {modes} (or empty), not “{text}”."
    return None


def uses_default(values: dict[str, str]) -> bool:
    """A row with a source id and no target: its readings use the default target."""
    return bool((values.get("source_id") or "").strip()) and not any(
        (values.get(t) or "").strip() for t in TARGETS
    )
