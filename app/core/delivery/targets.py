"""Idempotency at EnergyCAP's end: what each channel already has at each time.

A reading is identified at EnergyCAP by its channel (however it is
addressed: channel id, channel import id, or meter import id with codes and
interval) and the time sent. The journal remembers the value confirmed for
each such key; a pending reading whose key was confirmed with the same value
is settled without sending, and one with another value is held for a
decision unless it was released with `--overwrite`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.core.energycap.exporter import label_times
from app.core.journal.accept import time_ns
from app.core.journal.store import Journal
from app.core.settings import EnergyCapSettings


@dataclass
class Settled:
    """Pending readings settled before sending."""

    already_delivered: list[int] = field(default_factory=list)
    held: dict[int, str] = field(default_factory=dict)


def target_keys(mapped: pd.DataFrame, api: str) -> pd.Series:
    """One string per reading naming its EnergyCAP channel for `api`."""
    channel = "channel_id=" + mapped["channel_id"].astype("string")
    by_import = "channel_import_id=" + mapped["channel_import_id"].astype("string")
    by_meter = (
        "meter_import_id="
        + mapped["meter_import_id"].astype("string")
        + "|"
        + mapped["observation_type"].astype("string")
        + "|"
        + mapped["unit_code"].astype("string")
        + "|"
        + mapped["interval_s"].astype("string")
    )
    key = channel.fillna(by_import).fillna(by_meter)
    return (api + "|" + key).astype("string")


def with_targets(mapped: pd.DataFrame, settings: EnergyCapSettings) -> pd.DataFrame:
    """`mapped` plus `_target` and `_at` (the time sent, as UTC nanoseconds).

    Raises:
        ExportError: a start time label is asked for and an interval is unknown.
    """
    at = time_ns(label_times(mapped, "start" if settings.time_label == "start" else "end"))
    return mapped.assign(_target=target_keys(mapped, settings.api).to_numpy(), _at=at)


def _delivered(journal: Journal, frame: pd.DataFrame) -> pd.DataFrame:
    """What the journal says EnergyCAP has for the targets and times of `frame`."""
    found = []
    spans = frame.groupby("_target", sort=False)["_at"].agg(["min", "max"])  # one pass
    with journal.reader() as conn:
        for target, first, last in zip(
            spans.index.tolist(), spans["min"].tolist(), spans["max"].tolist(), strict=True
        ):
            found += conn.execute(
                "SELECT target, time, value, estimated FROM targets "
                "WHERE target = ? AND time BETWEEN ? AND ?",
                (str(target), int(first), int(last)),
            ).fetchall()
    delivered = pd.DataFrame.from_records(found, columns=["_target", "_at", "_value", "_estimated"])
    return delivered.astype({"_target": "string", "_at": "int64", "_value": "float64"})


def split_settled(
    journal: Journal, mapped: pd.DataFrame, settings: EnergyCapSettings
) -> tuple[pd.DataFrame, Settled]:
    """Readings still to send (with `_target`, `_at`), and those settled without sending."""
    frame = with_targets(mapped, settings)
    delivered = _delivered(journal, frame)
    if delivered.empty:
        return frame, Settled()
    merged = frame.merge(delivered, on=["_target", "_at"], how="left")
    have = merged["_value"].notna().to_numpy()
    same_value = have & np.isclose(merged["value"], merged["_value"].fillna(np.nan), rtol=1e-12)
    same_value &= merged["estimated"].to_numpy(dtype=bool) == merged["_estimated"].fillna(0).astype(
        bool
    ).to_numpy(dtype=bool)
    changed = have & ~same_value & ~merged["overwrite"].to_numpy(dtype=bool)
    result = Settled(already_delivered=merged.loc[same_value, "id"].astype("int64").tolist())
    changed_rows = merged.loc[changed]
    for rid, had, value in zip(
        changed_rows["id"], changed_rows["_value"], changed_rows["value"], strict=True
    ):
        result.held[int(rid)] = (
            f"EnergyCAP already has {float(had)!r} for this channel at this time (delivered "
            f"earlier); this reading says {float(value)!r}. Use --overwrite to replace it."
        )
    return frame.loc[~(same_value | changed)].reset_index(drop=True), result
