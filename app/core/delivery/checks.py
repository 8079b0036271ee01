"""What cannot be sent, told before anything is sent: each such reading is dead-lettered alone.

No single reading may stop the queue. A reading whose request body cannot be
built (a value that is not finite after the mapping's multiplier, text that
cannot be encoded as UTF-8, a start time asked for without an interval) would
make every request that carries it fail, again and again; so each one is
found here, rejected with its reason (the dead letters), and the rest of the
batch goes on. `replay` resends them after a fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.core.settings import EnergyCapSettings
from connectors.finite import non_finite_positions

TEXT_COLUMNS = ("source_id", "channel_import_id", "meter_import_id", "observation_type",
                "unit_code", "note")  # fmt: skip


def unsendable(mapped: pd.DataFrame, settings: EnergyCapSettings) -> dict[int, str]:
    """Journal id → reason for every mapped reading no request can carry.

    Args:
        mapped: mapped pending readings (with ``id``, ``value``, ``interval_s`` ...).
        settings: the API and time label in use.
    """
    reasons: dict[int, str] = {}
    ids = mapped["id"].to_numpy(dtype="int64")
    values = mapped["value"].to_numpy(dtype="float64", na_value=np.nan)
    for position in non_finite_positions(values):
        reasons[int(ids[position])] = (
            f"value {values[position]!r} cannot be sent: not a finite number (after the "
            "mapping's multiplier); fix the source or the mapping, then `meterbridge replay`"
        )
    if settings.time_label == "start":
        _unknown_intervals(mapped, ids, reasons)
    for column in TEXT_COLUMNS:
        if column in mapped.columns:
            _unencodable(mapped[column], column, ids, reasons)
    return reasons


def _unknown_intervals(mapped: pd.DataFrame, ids: Any, reasons: dict[int, str]) -> None:
    unknown = (mapped["interval_s"].to_numpy(dtype="int64") <= 0).nonzero()[0]
    sources = mapped["source_id"].to_numpy(dtype=object)
    for position in unknown:
        reasons.setdefault(
            int(ids[position]),
            f"source {str(sources[position])!r}: interval length unknown, so its interval start "
            "cannot be computed; give --interval or label times by their end (time_label end)",
        )


def _unencodable(column: pd.Series, name: str, ids: Any, reasons: dict[int, str]) -> None:
    """Readings whose text in `column` cannot be encoded as UTF-8 (lone surrogates)."""
    if isinstance(column.array, pd.arrays.ArrowStringArray):
        return  # Arrow holds UTF-8 only: such a text was never put in one (the journal's)
    distinct = column.drop_duplicates().tolist()
    bad = {text for text in distinct if isinstance(text, str) and not _encodes(text)}
    if not bad:
        return
    texts = column.to_numpy(dtype=object)
    for position in [p for p, t in enumerate(texts.tolist()) if isinstance(t, str) and t in bad]:
        shown = str(texts[position]).encode("utf-8", "backslashreplace").decode("utf-8")
        reasons.setdefault(
            int(ids[position]),
            f"{name} {shown!r} cannot be sent: it is not valid Unicode text",
        )


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
