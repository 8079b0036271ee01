"""Read a source into mapped readings for the preview, with progress and cancel.

Used by the desktop app's preview (on a worker thread) and usable headless.
The readings stay columnar: one DataFrame, sorted by channel and time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from app.core.energycap.exporter import TimeLabel, import_files
from app.core.mapping import MappingRow, MappingTable, apply_mapping, hint_rows, with_hints
from app.core.preview.checks import PreviewReport, check_readings
from app.core.preview.columns import TableColumns, channel_slices, label_of
from connectors.base import Connector, Problem, Source, conform, empty_readings
from connectors.series_gaps import OWN_GAP_WARNINGS, frame_gaps

MAP_CHUNK_ROWS = 50_000
Progress = Callable[[int, str], None]
Cancelled = Callable[[], bool]


class PreviewCancelled(Exception):
    """The user cancelled the conversion; nothing was kept."""


@dataclass(frozen=True)
class PreviewRequest:
    """What to preview: a source, the connector that reads it, its options and the mapping."""

    connector: Connector
    source: Source
    options: Mapping[str, Any] = field(default_factory=dict)
    table: MappingTable = field(default_factory=MappingTable)


@dataclass
class PreviewData:
    """Everything the preview shows for one source."""

    source: Source
    connector_id: str
    mapped: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    report: PreviewReport | None = None
    info: dict[str, Any] = field(default_factory=dict)
    columns: TableColumns | None = None
    slices: list[tuple[str, slice]] = field(default_factory=list)
    unmapped: list[tuple[str, str]] = field(default_factory=list)
    hints: list[MappingRow] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # source id -> site name shown
    file_labels: dict[str, str] = field(default_factory=dict)  # source id -> the file's own

    def label_of(self, source_id: str) -> str:
        """The site name of a source (`X:LEAD` takes `X`'s), or ""."""
        return label_of(self.labels, source_id)

    def channels(self) -> list[tuple[str, str]]:
        """The distinct (source id, quantity) pairs, in table order."""
        pairs = self.mapped[["source_id", "quantity"]].drop_duplicates()
        return [(str(s), str(q)) for s, q in pairs.itertuples(index=False)]


def load_preview(
    request: PreviewRequest, *, progress: Progress | None = None, cancelled: Cancelled | None = None
) -> PreviewData:
    """Read every batch of the request's source, map it, sort it and check it.

    Raises:
        PreviewCancelled: when `cancelled()` turns true between batches.
        SourceError: from the connector, when the source cannot be read at all.
    """
    frames: list[pd.DataFrame] = []
    problems: list[Problem] = []
    info: dict[str, Any] = {}
    hints: list[MappingRow] = []  # identities a Readings-API body names (kept on Send)
    connector, source, table = request.connector, request.source, request.table
    file_labels: dict[str, str] = {}  # the file's own site names (a site/location column)
    total = 0
    for batch in connector.read(source, request.options):
        if cancelled is not None and cancelled():
            raise PreviewCancelled("conversion cancelled")
        if len(batch.readings):
            frames.append(batch.readings)
        problems.extend(batch.problems)
        hints.extend(h for h in hint_rows(batch.info.get("mapping_hint")) if h not in hints)
        file_labels.update(batch.info.get("labels") or {})
        info.update({k: v for k, v in batch.info.items() if k != "labels"})
        total += len(batch.readings)
        if progress is not None:
            progress(total, f"{total:,} readings read from {source.name}")
    readings = conform(pd.concat(frames, ignore_index=True)) if frames else empty_readings()
    if progress is not None:
        progress(total, "mapping and checking")
    mapped = _map_in_chunks(readings, with_hints(table, hints), cancelled)
    # The value as the source gave it (before any mapping multiplier): what the journal
    # stores, since delivery applies the mapping (the current one) itself.
    mapped["source_value"] = readings["value"].to_numpy(dtype="float64")
    mapped = mapped.sort_values(["source_id", "quantity", "time"], kind="stable")
    mapped = mapped.reset_index(drop=True)
    gaps = None if connector.info.id in OWN_GAP_WARNINGS else frame_gaps(mapped)
    report = check_readings(mapped, problems, gaps=gaps)
    # A label the user typed in the mapping wins over the file's site name (which the
    # preview still shows as a note), so the table, the chart and the editor agree.
    labels = {**file_labels, **table.labels()}
    columns = TableColumns(mapped, report.flags, labels, file_labels)
    slices = channel_slices(mapped, labels)
    unmapped = unmapped_pairs(mapped)
    return PreviewData(
        source,
        connector.info.id,
        mapped,
        problems,
        report,
        info,
        columns,
        slices,
        unmapped,
        hints,
        labels,
        file_labels,
    )


def unmapped_pairs(mapped: pd.DataFrame) -> list[tuple[str, str]]:
    """(source id, quantity) pairs no mapping row covers."""
    if "mapped" not in mapped.columns or not len(mapped):
        return []
    pairs = mapped.loc[~mapped["mapped"], ["source_id", "quantity"]].drop_duplicates()
    return [(str(s), str(q)) for s, q in pairs.itertuples(index=False)]


def _map_in_chunks(
    readings: pd.DataFrame, table: MappingTable, cancelled: Cancelled | None
) -> pd.DataFrame:
    """Map in slices: each pandas call stays short, so other threads (the GUI) get the GIL."""
    if len(readings) <= MAP_CHUNK_ROWS:
        return apply_mapping(readings, table)
    parts = []
    for start in range(0, len(readings), MAP_CHUNK_ROWS):
        if cancelled is not None and cancelled():
            raise PreviewCancelled("conversion cancelled")
        parts.append(apply_mapping(readings.iloc[start : start + MAP_CHUNK_ROWS], table))
    return pd.concat(parts, ignore_index=True)


def save_import_files(
    mapped: pd.DataFrame, folder: Path, *, stem: str = "meterbridge", label: TimeLabel = "end"
) -> list[Path]:
    """Write EnergyCAP Import API CSV files, each with its profile beside it as JSON.

    Returns:
        The paths written (CSV then profile, per file).

    Raises:
        ExportError: when readings cannot go into an import file (see `import_files`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for item in import_files(mapped, label=label, stem=stem):
        csv_path = folder / item.name
        csv_path.write_bytes(item.data)
        profile_path = csv_path.with_suffix(".profile.json")
        profile_path.write_text(json.dumps(item.profile, indent=2), encoding="utf-8")
        written += [csv_path, profile_path]
    return written
