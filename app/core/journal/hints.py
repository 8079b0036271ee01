"""Mapping hints kept in the journal, beside the readings they address.

A Readings-API-shaped body names its EnergyCAP identity (``channelImportId``,
``channelId`` or ``meterImportId`` + codes); the readings-json connector passes
it as ``mapping_hint``. The journal stores readings raw and maps them at
delivery, so it keeps these hints too, keyed by ``(source, source_id,
quantity)`` and written in the same transaction as the readings: a reading
is never on disk without the identity it was sent with. At delivery the hints
of a reading's source apply to the source ids the user's mapping does not name
(`mapping.with_hints`: the user's rows win).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from app.core.mapping import MappingRow, MappingTable, apply_mapping, hint_rows, with_hints

_UPSERT = (
    "INSERT INTO hints (source, source_id, quantity, row, updated_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (source, source_id, quantity) DO UPDATE SET row = excluded.row, "
    "updated_at = excluded.updated_at WHERE hints.row != excluded.row"
)


def hint_dicts(hints: Iterable[Any] | None) -> list[dict[str, Any]]:
    """Hints (MappingRow objects or MappingRow-shaped dicts) as plain, valid dicts."""
    rows: list[MappingRow] = []
    for hint in hints or ():
        if isinstance(hint, MappingRow):
            rows.append(hint)
        else:
            rows.extend(hint_rows([hint]))
    return [dataclasses.asdict(r) for r in rows]


def store_hints(
    conn: sqlite3.Connection, source: str, hints: Sequence[dict[str, Any]], stamp: float
) -> None:
    """Keep one source's hints inside the caller's transaction (a changed hint replaces)."""
    conn.executemany(
        _UPSERT,
        [
            (source, h["source_id"], h.get("quantity") or "", json.dumps(h, sort_keys=True), stamp)
            for h in hints
        ],
    )


def load_hints(conn: sqlite3.Connection, sources: Iterable[str]) -> dict[str, list[MappingRow]]:
    """The stored hints of these sources, as mapping rows per source."""
    found: dict[str, list[MappingRow]] = {}
    for source in sorted(set(sources)):
        rows = conn.execute(
            "SELECT row FROM hints WHERE source = ? ORDER BY source_id, quantity", (source,)
        ).fetchall()
        if rows:
            found[source] = _parsed(source, tuple(r[0] for r in rows))
    return found


_PARSED: dict[str, tuple[tuple[str, ...], list[MappingRow]]] = {}  # source → its rows, read


def _parsed(source: str, texts: tuple[str, ...]) -> list[MappingRow]:
    """A source's hint rows; read again only when their stored text changed.

    Delivery asks for a device's hints every batch (200 rows of JSON for a
    device naming 200 channels); the rows are frozen, so the list is shared.
    """
    kept = _PARSED.get(source)
    if kept is not None and kept[0] == texts:
        return list(kept[1])
    rows = hint_rows([json.loads(text) for text in texts])
    if len(_PARSED) >= 1000:  # bounded: many sources are read again, nothing is wrong
        _PARSED.clear()
    _PARSED[source] = (texts, rows)
    return list(rows)


def map_with_hints(
    pending: pd.DataFrame, table: MappingTable, hints: dict[str, list[MappingRow]]
) -> pd.DataFrame:
    """Map journal readings: each source with its own hints, the user's rows first.

    Readings of sources without hints are mapped by `table` alone, in one pass;
    the result keeps the order of `pending`.
    """
    if not hints:
        return apply_mapping(pending, table)
    sources = pending["source"].astype("string")
    if len(hints) == 1:  # one hinted source (a device's batch): no copy when it is all of them
        source, rows = next(iter(hints.items()))
        if bool((sources == source).fillna(False).all()):
            return apply_mapping(pending, with_hints(table, rows))
    hinted = sources.isin(list(hints)).fillna(False).to_numpy(dtype=bool)
    parts = []
    if not hinted.all():
        parts.append(apply_mapping(pending.loc[~hinted], table))
    for source, rows in hints.items():
        subset = pending.loc[(sources == source).fillna(False).to_numpy(dtype=bool)]
        if len(subset):
            parts.append(apply_mapping(subset, with_hints(table, rows)))
    mapped = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return mapped.sort_values("id", kind="stable").reset_index(drop=True)
