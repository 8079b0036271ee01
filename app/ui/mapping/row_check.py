"""Check one mapping row as it is edited: the column at fault and a sentence in plain words.

The file parser (`app.core.mapping`) names file, line and column for the CLI; the
editor checks each row on its own so the bad cell can be highlighted at once.
A row without any target is fine: its readings go where the default sends them.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

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


MAPPING_WORDS: tuple[tuple[str, str], ...] = (
    ("needs at most one of", f"needs at most one target: {TARGET_WORDS}"),
    ("is not a whole number", "has a channel id that is not a whole number"),
    ("is not a finite number", "has a multiplier that is not a number"),
    ("is not a number", "has a multiplier that is not a number"),
    ("column register", "has a register that is neither difference nor raw"),
    ("column source_id is empty", "has no source id"),
    ("must have a source_id column", "has no source_id column in its first line"),
    (
        "header needs one of",
        "names no target column (channel_import_id, meter_import_id "
        "or channel_id) in its first line",
    ),
    ("cannot read mapping file", "cannot be opened"),
)


def mapping_error_words(message: str) -> str:
    """A mapping file's problem (the parser's "file:line: …") as one plain sentence."""
    found = re.match(r"^(?P<file>.*?):(?:(?P<line>\d+):)? (?P<rest>.*)$", message, re.S)
    name = Path(found.group("file")).name if found else "The file"
    line = found.group("line") if found else None
    where = f"Line {line} of {name}" if line and "header" not in message else name
    text = found.group("rest") if found else message
    words = next((plain for key, plain in MAPPING_WORDS if key in text), "")
    return f"{where} {words}." if words else f"{where} cannot be used as a mapping."
