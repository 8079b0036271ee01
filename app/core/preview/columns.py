"""The preview table's columns as plain arrays, built once, read in O(1) per cell.

Built where the conversion runs (a worker thread or a child process), so the
GUI thread only wraps them in a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa


class TableColumns:
    """The frame's columns as arrays for O(1) cell access; build it off the GUI thread."""

    def __init__(
        self,
        mapped: pd.DataFrame,
        flags: np.ndarray[Any, Any] | None = None,
        labels: Mapping[str, str] | None = None,
        file_labels: Mapping[str, str] | None = None,
    ) -> None:
        n = len(mapped)
        self.flags = flags if flags is not None else np.zeros(n, dtype=np.uint8)
        # Repeating text columns become integer codes + the few distinct values
        # (vectorised); `origin` is distinct per row, so it stays an arrow array.
        self.text: dict[str, tuple[np.ndarray[Any, Any], list[Any]]] = {
            name: _codes(mapped[name])
            for name in ("source_id", "quantity", "observation_type", "unit_code", "note")
        }
        # The site name of each row: the source id's codes, one label per distinct source.
        source_codes, sources = self.text["source_id"]
        self.text["label"] = (source_codes, [label_of(labels or {}, s) for s in sources])
        # Where the shown label is the user's and the file names the site otherwise.
        self.label_notes = [
            _label_note(label_of(labels or {}, s), label_of(file_labels or {}, s)) for s in sources
        ]
        self.ids = (
            _codes(mapped["channel_import_id"]),
            _codes(mapped["meter_import_id"]),
            _codes(mapped["channel_id"].astype("string")),
        )
        self.mapped = mapped
        self.refresh_views()

    def refresh_views(self) -> None:
        """Arrays that are (nearly) views of the frame's own columns."""
        mapped = self.mapped
        self.origin = pa.array(mapped["origin"].array, type=pa.string())
        self.time_ns = mapped["time"].to_numpy(dtype="datetime64[ns]").view("int64")
        self.interval = mapped["interval_s"].to_numpy(dtype="int64")
        self.value = mapped["value"].to_numpy(dtype="float64")
        self.estimated = mapped["estimated"].to_numpy(dtype=bool)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the views: the frame travels once (pickle shares it)."""
        return {"flags": self.flags, "text": self.text, "ids": self.ids, "mapped": self.mapped,
                "label_notes": self.label_notes}  # fmt: skip

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.refresh_views()


def _codes(series: pd.Series) -> tuple[np.ndarray[Any, Any], list[Any]]:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int32), [str(u) for u in uniques]


def label_of(labels: Mapping[str, str], source_id: str) -> str:
    """The label of `source_id`; a suffixed id (`X:LEAD`) takes `X`'s; "" when none."""
    found = labels.get(source_id)
    if found is None and ":" in source_id:  # `X:LEAD` is meter X's reactive channel
        found = labels.get(source_id.rsplit(":", 1)[0])
    return found or ""


def _label_note(shown: str, in_file: str) -> str:
    """What the file calls a site whose label (the mapping's) says otherwise; or ""."""
    if not in_file or in_file == shown:
        return ""
    return f"Your label (from the mapping). The file calls this site “{in_file}”."


def channel_slices(
    mapped: pd.DataFrame, labels: Mapping[str, str] | None = None
) -> list[tuple[str, slice]]:
    """(title, row slice) per channel of a frame sorted by source, quantity, time.

    The title is `source · quantity`, with the site name after the source when known.
    """
    if not len(mapped):
        return []
    codes = mapped.groupby(["source_id", "quantity"], sort=False).ngroup().to_numpy()
    starts = np.concatenate(([0], np.flatnonzero(np.diff(codes)) + 1))
    ends = np.concatenate((starts[1:], [len(codes)]))
    out = []
    for start, end in zip(starts, ends, strict=True):
        source = mapped["source_id"].iat[int(start)]
        quantity = mapped["quantity"].iat[int(start)]
        site = label_of(labels or {}, str(source))
        named = f"{source} ({site})" if site else str(source)
        out.append((f"{named} · {quantity}", slice(int(start), int(end))))
    return out
