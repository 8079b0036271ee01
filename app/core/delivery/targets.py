"""Idempotency at EnergyCAP's end: what each channel already has at each time.

A reading is identified at EnergyCAP by its channel (however it is
addressed: channel id, channel import id, or meter import id with codes and
interval) and the time sent. The journal remembers the value confirmed for
each such key; a pending reading whose key was confirmed with the same value
is settled without sending, and one with another value is held for a
decision unless it was released with `--overwrite`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from app.core.energycap.exporter import label_times
from app.core.energycap.key_codes import first_values, key_codes
from app.core.journal.accept import time_ns
from app.core.journal.store import Journal
from app.core.settings import EnergyCapSettings


@dataclass
class Settled:
    """Pending readings settled before sending."""

    already_delivered: list[int] = field(default_factory=list)
    held: dict[int, str] = field(default_factory=dict)


KEY_COLUMNS = ("channel_id", "channel_import_id", "meter_import_id", "observation_type",
               "unit_code", "interval_s")  # fmt: skip


def target_keys(mapped: pd.DataFrame, api: str) -> pd.Series:
    """One string per reading naming its EnergyCAP channel for `api` (missing: NA).

    ``api|channel_id=…``, else ``api|channel_import_id=…``, else
    ``api|meter_import_id=…|observation type|unit code|interval``: the keys of
    the targets table, so they never change.
    """
    return pd.Series(_key_objects(mapped, api), index=mapped.index, dtype="string")


def _key_objects(mapped: pd.DataFrame, api: str) -> np.ndarray[Any, np.dtype[np.object_]]:
    """`target_keys` as an object array (NA where missing), each key built once per
    distinct combination of `KEY_COLUMNS` (found by factorizing, not row by row; a
    column with one value throughout is not factorized at all)."""
    combos = np.zeros(len(mapped), dtype=np.int64)
    codes = {c: key_codes(mapped[c], na_code=True) for c in KEY_COLUMNS}
    for column_codes in codes.values():
        if column_codes is not None:
            combos = pd.factorize(combos * (int(column_codes.max()) + 2) + column_codes)[0]
    _, firsts = np.unique(combos, return_index=True)
    order = combos[firsts]  # the combination code of each first row, ascending
    names = np.empty(len(firsts), dtype=object)
    rows = zip(*(first_values(mapped[c], firsts, codes[c]) for c in KEY_COLUMNS), strict=True)
    for code, combo in zip(order.tolist(), rows, strict=True):
        key = _target_key(api, *combo)
        names[code] = pd.NA if key is None else key
    return names[combos]


def _target_key(
    api: str, channel: Any, channel_import: Any, meter: Any, kind: Any, unit: Any, interval: Any
) -> str | None:
    if not _missing(channel):
        return f"{api}|channel_id={int(channel)}"
    if not _missing(channel_import):
        return f"{api}|channel_import_id={channel_import}"
    if any(_missing(v) for v in (meter, kind, unit, interval)):
        return None
    return f"{api}|meter_import_id={meter}|{kind}|{unit}|{int(interval)}"


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def with_targets(mapped: pd.DataFrame, settings: EnergyCapSettings) -> pd.DataFrame:
    """`mapped` plus `_target` and `_at` (the time sent, as UTC nanoseconds).

    Raises:
        ExportError: a start time label is asked for and an interval is unknown.
    """
    at = time_ns(label_times(mapped, "start" if settings.time_label == "start" else "end"))
    return mapped.assign(_target=_key_objects(mapped, settings.api), _at=at)


# More targets than this in the batch's time span (a floor, plus so many per reading of
# the batch): they are asked pair by pair instead.
SPAN_ROWS_FLOOR = 1000
SPAN_ROWS_PER_READING = 2


def _delivered(journal: Journal, frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """What the journal says EnergyCAP has for the targets and times of `frame`:
    (target, time, value, estimated) rows, of those times at least.

    The targets table is keyed by time first: one range read over the
    batch's time span finds them (new readings: nothing there). When that
    span holds many more targets than the batch (other meters over the same
    times), each (target, time) of the batch is looked up instead.
    """
    times = frame["_at"].to_numpy(dtype="int64")
    found: list[tuple[Any, ...]] = []
    if len(times):
        limit = SPAN_ROWS_PER_READING * len(times) + SPAN_ROWS_FLOOR
        with journal.reader() as conn:
            found = conn.execute(
                "SELECT target, time, value, estimated FROM targets "
                "WHERE time BETWEEN ? AND ? LIMIT ?",
                (int(times.min()), int(times.max()), limit + 1),
            ).fetchall()
            if len(found) > limit:
                found = _pairs(conn, frame)
    return found


def _pairs(conn: sqlite3.Connection, frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """The targets rows of exactly the (target, time) pairs of `frame`."""
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS wanted (time INTEGER, target TEXT, "
        "PRIMARY KEY (time, target)) WITHOUT ROWID"
    )
    conn.execute("DELETE FROM wanted")
    times, names = frame["_at"].astype("int64").tolist(), frame["_target"].astype(str).tolist()
    pairs = zip(times, names, strict=True)
    conn.executemany("INSERT OR IGNORE INTO wanted VALUES (?, ?)", pairs)
    return conn.execute(
        "SELECT t.target, t.time, t.value, t.estimated FROM wanted AS w "
        "JOIN targets AS t ON t.time = w.time AND t.target = w.target"
    ).fetchall()


def _what_was_delivered(frame: pd.DataFrame, found: list[tuple[Any, ...]]) -> tuple[Any, Any, Any]:
    """For each row of `frame` (in order): whether `found` has its (target, time), with
    which value and estimated flag (a dictionary look-up a reading, no frame merge)."""
    had = {(target, at): (value, estimated) for target, at, value, estimated in found}
    names = frame["_target"].to_numpy(dtype=object).tolist()
    hits = [had.get(key) for key in zip(names, frame["_at"].tolist(), strict=True)]
    have = np.array([hit is not None for hit in hits], dtype=bool)
    had_value = np.array([hit[0] if hit else np.nan for hit in hits], dtype="float64")
    had_estimated = np.array([bool(hit[1]) if hit else False for hit in hits], dtype=bool)
    return have, had_value, had_estimated


def split_settled(
    journal: Journal, mapped: pd.DataFrame, settings: EnergyCapSettings
) -> tuple[pd.DataFrame, Settled]:
    """Readings still to send (with `_target`, `_at`), and those settled without sending."""
    frame = with_targets(mapped, settings)
    found = _delivered(journal, frame)
    if not found:
        return frame, Settled()
    have, had_value, had_estimated = _what_was_delivered(frame, found)
    value = frame["value"].to_numpy(dtype="float64")
    same_value = have & np.isclose(value, had_value, rtol=1e-12)
    same_value &= frame["estimated"].to_numpy(dtype=bool) == had_estimated
    changed = have & ~same_value & ~frame["overwrite"].to_numpy(dtype=bool)
    ids = frame["id"].to_numpy(dtype="int64")
    result = Settled(already_delivered=ids[same_value].tolist())
    for rid, before, now in zip(ids[changed].tolist(), had_value[changed].tolist(),
                                value[changed].tolist(), strict=True):  # fmt: skip
        result.held[rid] = (
            f"EnergyCAP already has {before!r} for this channel at this time (delivered "
            f"earlier); this reading says {now!r}. Use --overwrite to replace it."
        )
    return frame.loc[~(same_value | changed)].reset_index(drop=True), result
