"""Turn mapped readings into EnergyCAP payloads: Readings API JSON, ESA JSON,
and Import API CSV files with their import profiles.

Times: the readings frame holds the interval **end** in UTC. EnergyCAP gets
the end by default, or the start when the connection's time label says so.
Every time sent carries an explicit UTC offset (`+00:00`), which is also the
only way to keep the repeated hour of an autumn clock-change day apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from app.core import string_codes
from app.core.energycap.csv_words import (
    ISO_CSV_FORMAT,
    ISO_FORMAT,
    flag_words,
    instants,
    joined_pieces,
    number_words,
    text_words,
    time_words,
)
from app.core.energycap.key_codes import ordered_runs
from app.core.energycap.models import ESA_ID_KEYS, READING_ID_KEYS

TimeLabel = Literal["end", "start"]

GROUP_KEYS: tuple[str, ...] = (
    "channel_id",
    "channel_import_id",
    "meter_import_id",
    "observation_type",
    "unit_code",
    "interval_s",
)

# The .NET format of the Import API file's timestamp column; it matches ISO_CSV_FORMAT.
IMPORT_TIMESTAMP_FORMAT = "yyyy-MM-dd HH:mm:sszzz"
PIECE_ROWS = 1 << 17  # rows formatted and written at a time (about 6 MB of text)
CSV_HEADER: tuple[str, ...] = ("ImportId", "Timestamp", "Value", "Estimated", "Note")
ESTIMATED_INDICATOR = "E"


class ExportError(ValueError):
    """Readings that cannot be expressed in the chosen EnergyCAP API."""


def label_times(mapped: pd.DataFrame, label: TimeLabel) -> pd.Series:
    """UTC times as EnergyCAP should get them: interval end, or start if `label` is start.

    Raises:
        ExportError: when the start is asked for and a reading's interval is unknown.
    """
    times = mapped["time"]
    if label == "end":
        return times
    unknown = mapped["interval_s"] <= 0
    if bool(unknown.any()):
        first = mapped.loc[unknown, "source_id"].iloc[0]
        raise ExportError(
            f"source {first!r}: interval length unknown, so its interval start cannot be "
            "computed; give --interval or label times by their end"
        )
    return times - pd.to_timedelta(mapped["interval_s"], unit="s")


def format_times(times: pd.Series, fmt: str = ISO_FORMAT) -> list[str]:
    """Format tz-aware times in UTC with an explicit offset, fast (pyarrow)."""
    return time_words(times, fmt).rows().to_pylist()  # type: ignore[no-any-return]


class _ReadingItems:
    """The Reading objects of a frame's rows in the order `order`, each column converted once."""

    def __init__(self, frame: pd.DataFrame, label: TimeLabel, order: np.ndarray[Any, Any]) -> None:
        self.times = format_times(label_times(frame, label).iloc[order])
        values = frame["value"].to_numpy(dtype="float64")[order]
        if not bool(np.isfinite(values).all()):  # a JSON body carries finite numbers only
            raise ExportError("a reading's value is not a finite number: it cannot be sent")
        self.values = values.tolist()
        self.estimated = frame["estimated"].to_numpy(dtype="bool")[order].tolist()
        notes = frame["note"]
        noted = notes.notna().to_numpy() & (notes.fillna("") != "").to_numpy(dtype=bool)
        self.noted = noted[order]
        self.notes = notes.to_numpy(dtype=object)[order].tolist() if noted.any() else []

    def between(self, start: int, stop: int) -> list[dict[str, Any]]:
        """The Reading objects of (ordered) rows `start` … `stop` - 1."""
        at = slice(start, stop)
        rows = zip(self.times[at], self.values[at], self.estimated[at], strict=True)
        items = [{"time": t, "value": v, "estimated": e} for t, v, e in rows]
        for row in np.flatnonzero(self.noted[start:stop]).tolist():
            items[row]["note"] = self.notes[start + row]
        return items


def _reading_create(
    key: dict[str, Any], readings: list[dict[str, Any]], api: Literal["readings", "esa"]
) -> dict[str, Any]:
    """One channel's ReadingCreate (Readings API) or EsaReadingCreate (ESA API) body."""
    by_id, by_import_id, by_meter = READING_ID_KEYS if api == "readings" else ESA_ID_KEYS
    body: dict[str, Any]
    if key["channel_id"] is not None:
        body = {by_id: int(key["channel_id"])}
    elif key["channel_import_id"] is not None:
        body = {by_import_id: str(key["channel_import_id"])}
    else:
        body = {by_meter: str(key["meter_import_id"])}
    body["observationTypeCode"] = str(key["observation_type"])
    body["unitCode"] = str(key["unit_code"])
    seconds = int(key["interval_s"] or 0)
    if seconds > 0 and api == "readings":
        body["channelIntervalInSeconds"] = seconds
    elif seconds > 0 and seconds % 60 == 0 and api == "esa":
        body["esaChannelIntervalMinutes"] = seconds // 60
    body["readings"] = readings
    return body


@dataclass
class ApiBatch:
    """One request body and the positions (in the mapped frame) of its readings."""

    body: list[dict[str, Any]]
    rows: np.ndarray[Any, np.dtype[np.int64]]

    @property
    def count(self) -> int:
        """Number of readings in the body."""
        return len(self.rows)


def api_batches(
    mapped: pd.DataFrame,
    *,
    api: Literal["readings", "esa"],
    label: TimeLabel = "end",
    batch_size: int = 5000,
) -> Iterator[ApiBatch]:
    """Request bodies of at most `batch_size` readings for the Readings or ESA API, each with
    its readings' row positions in `mapped` (to trace per-reading results back).

    Raises:
        ExportError: a value is not a finite number (no JSON body may carry it).
    """
    if batch_size < 1:
        raise ExportError("batch size must be at least 1")
    if not len(mapped):
        return
    positions, runs = ordered_runs(mapped, GROUP_KEYS)
    readings = _ReadingItems(mapped, label, positions)  # formatted once for the whole frame
    body: list[dict[str, Any]] = []
    rows: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    room = batch_size
    for key, start, stop in runs:  # one channel's readings, sorted by time
        while start < stop:
            end = min(start + room, stop)  # the channel's next readings in this batch
            body.append(_reading_create(key, readings.between(start, end), api))
            rows.append(positions[start:end])
            room -= end - start
            start = end
            if room == 0:
                yield ApiBatch(body, np.concatenate(rows))
                body, rows, room = [], [], batch_size
    if body:
        yield ApiBatch(body, np.concatenate(rows))


@dataclass
class ImportFile:
    """An Import API CSV file and the inline profile that reads it."""

    name: str
    data: bytes
    profile: dict[str, Any]
    count: int
    rows: np.ndarray[Any, np.dtype[np.int64]]


@dataclass(frozen=True)
class ImportKey:
    """What one Import API file holds: the id kind, codes and interval."""

    kind: str  # "channel" (channelImportId column) or "meter" (meterImportId column)
    observation_type: str
    unit_code: str
    interval_s: int


def _check_importable(mapped: pd.DataFrame) -> None:
    if bool(mapped["channel_id"].notna().any()):
        bad = mapped.loc[mapped["channel_id"].notna(), "source_id"].iloc[0]
        raise ExportError(
            f"source {bad!r} is mapped by channel_id, which the Import API cannot carry; "
            "map it by channel_import_id or meter_import_id, or use --api readings"
        )


def import_groups(mapped: pd.DataFrame) -> Iterator[tuple[ImportKey, pd.DataFrame]]:
    """Split mapped readings into the groups one import file each can carry.

    Each group's readings keep a `_pos` column: their row positions in `mapped`.

    Raises:
        ExportError: for readings mapped by numeric channel_id, which a file cannot carry.
    """
    if not len(mapped):
        return
    _check_importable(mapped)
    channel = mapped["channel_import_id"].notna().to_numpy()
    interval = mapped["interval_s"].to_numpy()
    if _one_group(mapped, channel, interval):  # the usual case: no grouping
        first = mapped.iloc[:1]
        key = (channel[0], first["observation_type"].iloc[0], first["unit_code"].iloc[0])
        groups = {(*key, interval[0]): np.arange(len(mapped))}
    else:
        keys = pd.DataFrame(
            {
                "channel": channel,
                "observation_type": mapped["observation_type"].array,
                "unit_code": mapped["unit_code"].array,
                "interval_s": interval,
            }
        )
        groups = keys.groupby(list(keys.columns), sort=True).indices
    for (channel_id, obs, unit, seconds), rows in groups.items():
        whole = len(rows) == len(mapped)  # one group: no copy of the frame
        group_readings = (mapped if whole else mapped.iloc[rows]).assign(_pos=rows)
        kind = "channel" if channel_id else "meter"
        yield ImportKey(kind, str(obs), str(unit), int(seconds)), group_readings


def _one_group(mapped: pd.DataFrame, channel: Any, interval: Any) -> bool:
    """Whether every row has the same group key (string columns told by their buffers)."""
    for values in (channel, interval):
        if not bool((values == values[0]).all()):
            return False
    return all(string_codes.one_value(mapped[c]) for c in ("observation_type", "unit_code"))


def import_files(
    mapped: pd.DataFrame,
    *,
    label: TimeLabel = "end",
    time_zone_id: int | None = None,
    stem: str = "meterbridge",
) -> list[ImportFile]:
    """One CSV file + profile per (id kind, observation type, unit, interval).

    The profile names which column holds the import id (channel or meter),
    the timestamp column and its .NET format, the value column's codes and the
    estimated indicator. `time_zone_id` is EnergyCAP's id for UTC (looked up
    with /api/v3/timezone); the timestamps carry `+00:00` either way.

    Raises:
        ExportError: for readings mapped by numeric channel_id, which a file cannot carry.
    """
    files = []
    for number, (key, group_readings) in enumerate(import_groups(mapped), start=1):
        name = f"{stem}-{number:03d}"
        ordered = sort_for_import(group_readings)
        files.append(
            ImportFile(
                name=f"{name}.csv",
                data=CSV_HEADER_LINE + import_csv_rows(ordered, key.kind, label),
                profile=import_profile(
                    key.kind,
                    key.observation_type,
                    key.unit_code,
                    key.interval_s,
                    time_zone_id,
                    name,
                ),
                count=len(ordered),
                rows=ordered["_pos"].to_numpy(dtype="int64"),
            )
        )
    return files


CSV_HEADER_LINE = (",".join(CSV_HEADER) + "\r\n").encode("ascii")


def sort_for_import(readings: pd.DataFrame) -> pd.DataFrame:
    """A group's readings in file order: by import id, then time (no copy when already so)."""
    if _ordered_by_one_id(readings):
        return readings
    channel, _ = pd.factorize(readings["channel_import_id"], sort=True, use_na_sentinel=False)
    meter, _ = pd.factorize(readings["meter_import_id"], sort=True, use_na_sentinel=False)
    times = instants(readings["time"])
    order = np.lexsort((times, meter, channel))
    if bool((order[1:] > order[:-1]).all()):
        return readings
    return readings.iloc[order]


def _ordered_by_one_id(readings: pd.DataFrame) -> bool:
    """True when one id column is all empty, the other full, and rows already go by
    (id, time): told from the ids' dictionary codes (shared with the guards and mapping)."""
    if len(readings) < 2:
        return True
    channel, meter = readings["channel_import_id"], readings["meter_import_id"]
    if bool(channel.isna().all()) and not bool(meter.isna().any()):
        ids = meter
    elif bool(meter.isna().all()) and not bool(channel.isna().any()):
        ids = channel
    else:
        return False
    encoded = string_codes.encoded(ids)
    words = encoded.dictionary
    if len(words) > 1 and not bool(pc.all(pc.less(words[:-1], words[1:])).as_py()):
        return False  # first-seen order is not the sorted order
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    times = instants(readings["time"])
    step_id, step_time = np.diff(codes), np.diff(times)
    return bool(((step_id > 0) | ((step_id == 0) & (step_time > 0))).all())


def import_csv_rows(readings: pd.DataFrame, kind: str, label: TimeLabel = "end") -> bytes:
    """The data rows (no header) of an import file for one group, CRLF-terminated.

    Columns follow `CSV_HEADER`: import id, timestamp with `+00:00`, value
    (plain decimal, never NaN), `E` when estimated, note.
    """
    return b"".join(bytes(piece) for piece in import_csv_pieces(readings, kind, label))


def import_csv_pieces(
    readings: pd.DataFrame, kind: str, label: TimeLabel = "end", rows: int = PIECE_ROWS
) -> Iterator[Any]:
    """`import_csv_rows` as buffers of at most `rows` rows each: for writing to a file
    without holding the text of the whole group."""
    if not len(readings):
        return
    ids = readings["channel_import_id"] if kind == "channel" else readings["meter_import_id"]
    stamps = time_words(label_times(readings, label), ISO_CSV_FORMAT)
    numbers = readings["value"].to_numpy(dtype="float64")
    estimated = readings["estimated"].to_numpy(dtype="bool")
    note = text_words(readings["note"].astype("string"), suffix="\r\n")
    columns = [text_words(ids.astype("string")), stamps]
    if isinstance(note, pa.Scalar) and not estimated.any():  # no flag, no note: one tail
        columns.append(number_words(numbers, suffix=",," + note.as_py()))
    else:
        columns += [number_words(numbers), flag_words(estimated, ESTIMATED_INDICATOR), note]
    yield from joined_pieces(columns, len(readings), rows)


def import_profile(
    kind: str, obs: str, unit: str, interval: int, time_zone_id: int | None, code: str
) -> dict[str, Any]:
    """The ReadingImportProfile that reads a file written by `import_files`."""
    profile: dict[str, Any] = {
        "profileCode": code[:64],
        "delimiter": ",",
        "numberOfHeaderRows": 1,
        "numberOfColumns": len(CSV_HEADER),
        "timestampColumnNumber": 2,
        "timestampFormat": IMPORT_TIMESTAMP_FORMAT,
        "dataMapping": [{"columnNumber": 3, "observationTypeCode": obs, "unitCode": unit}],
        "estimated": {"columnNumber": 4, "indicator": ESTIMATED_INDICATOR},
        "noteColumnNumber": 5,
    }
    if kind == "channel":
        profile["channelImportIdColumnNumber"] = 1
    else:
        profile["meterImportIdColumnNumber"] = 1
    if interval > 0:
        profile["channelIntervalInSeconds"] = interval
    if time_zone_id is not None:
        profile["timeZoneId"] = time_zone_id
    return profile
