"""Turn mapped readings into EnergyCAP payloads: Readings API JSON, ESA JSON,
and Import API CSV files with their import profiles.

Times: the readings frame holds the interval **end** in UTC. EnergyCAP gets
the end by default, or the start when the connection's time label says so.
Every time sent carries an explicit UTC offset (`+00:00`), which is also the
only way to keep the repeated hour of an autumn clock-change day apart.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TimeLabel = Literal["end", "start"]

GROUP_KEYS: tuple[str, ...] = (
    "channel_id",
    "channel_import_id",
    "meter_import_id",
    "observation_type",
    "unit_code",
    "interval_s",
)

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S+00:00"
# The .NET format of the Import API file's timestamp column; it matches ISO_CSV_FORMAT.
IMPORT_TIMESTAMP_FORMAT = "yyyy-MM-dd HH:mm:sszzz"
ISO_CSV_FORMAT = "%Y-%m-%d %H:%M:%S+00:00"
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
    utc = pd.to_datetime(times, utc=True)
    array = pa.array(utc.dt.tz_convert("UTC").dt.tz_localize(None), type=pa.timestamp("s"))
    return pc.strftime(array, format=fmt).to_pylist()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Group:
    """One EnergyCAP channel's readings (a slice of the mapped frame)."""

    key: dict[str, Any]
    frame: pd.DataFrame


def channel_groups(mapped: pd.DataFrame) -> Iterator[Group]:
    """Readings grouped by target channel and interval, each sorted by time."""
    if not len(mapped):
        return
    ordered = mapped.sort_values([*GROUP_KEYS, "time"], na_position="first", kind="stable")
    for values, frame in ordered.groupby(list(GROUP_KEYS), dropna=False, sort=False):
        key = {k: (None if pd.isna(v) else v) for k, v in zip(GROUP_KEYS, values, strict=True)}
        yield Group(key=key, frame=frame)


def _reading_items(frame: pd.DataFrame, label: TimeLabel) -> list[dict[str, Any]]:
    times = format_times(label_times(frame, label))
    values = frame["value"].to_numpy(dtype="float64").tolist()
    estimated = frame["estimated"].to_numpy(dtype="bool").tolist()
    notes = frame["note"].tolist()
    items: list[dict[str, Any]] = []
    for t, v, e, n in zip(times, values, estimated, notes, strict=True):
        item: dict[str, Any] = {"time": t, "value": v, "estimated": e}
        if isinstance(n, str) and n:
            item["note"] = n
        items.append(item)
    return items


def _reading_create(key: dict[str, Any], readings: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if key["channel_id"] is not None:
        body["channelId"] = int(key["channel_id"])
    elif key["channel_import_id"] is not None:
        body["channelImportId"] = str(key["channel_import_id"])
    else:
        body["meterImportId"] = str(key["meter_import_id"])
    body["observationTypeCode"] = str(key["observation_type"])
    body["unitCode"] = str(key["unit_code"])
    if int(key["interval_s"] or 0) > 0:
        body["channelIntervalInSeconds"] = int(key["interval_s"])
    body["readings"] = readings
    return body


def _esa_reading_create(key: dict[str, Any], readings: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if key["channel_id"] is not None:
        body["esaChannelId"] = int(key["channel_id"])
    elif key["channel_import_id"] is not None:
        body["esaChannelImportId"] = str(key["channel_import_id"])
    else:
        body["dataPointImportId"] = str(key["meter_import_id"])
    body["observationTypeCode"] = str(key["observation_type"])
    body["unitCode"] = str(key["unit_code"])
    seconds = int(key["interval_s"] or 0)
    if seconds > 0 and seconds % 60 == 0:
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
    """Request bodies of at most `batch_size` readings for the Readings or ESA API.

    Each batch also carries the row positions of its readings in `mapped`, so
    per-reading results can be traced back to their origin.
    """
    if batch_size < 1:
        raise ExportError("batch size must be at least 1")
    make = _reading_create if api == "readings" else _esa_reading_create
    positions = pd.Series(np.arange(len(mapped)), index=mapped.index)
    body: list[dict[str, Any]] = []
    rows: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    room = batch_size
    for group in channel_groups(mapped):
        start = 0
        while start < len(group.frame):
            part = group.frame.iloc[start : start + room]
            body.append(make(group.key, _reading_items(part, label)))
            rows.append(positions.loc[part.index].to_numpy(dtype="int64"))
            start += len(part)
            room -= len(part)
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
    if not len(mapped):
        return []
    if bool(mapped["channel_id"].notna().any()):
        bad = mapped.loc[mapped["channel_id"].notna(), "source_id"].iloc[0]
        raise ExportError(
            f"source {bad!r} is mapped by channel_id, which the Import API cannot carry; "
            "map it by channel_import_id or meter_import_id, or use --api readings"
        )
    frame = mapped.assign(
        _kind=np.where(mapped["channel_import_id"].notna(), "channel", "meter"),
        _pos=np.arange(len(mapped)),
    )
    keys = ["_kind", "observation_type", "unit_code", "interval_s"]
    files = []
    for number, (values, part) in enumerate(frame.groupby(keys, sort=True), start=1):
        kind, obs, unit, interval = values
        files.append(
            _import_file(
                part,
                str(kind),
                str(obs),
                str(unit),
                int(interval),
                label,
                time_zone_id,
                f"{stem}-{number:03d}",
            )
        )
    return files


def _import_file(
    part: pd.DataFrame,
    kind: str,
    obs: str,
    unit: str,
    interval: int,
    label: TimeLabel,
    time_zone_id: int | None,
    name: str,
) -> ImportFile:
    part = part.sort_values(["channel_import_id", "meter_import_id", "time"], kind="stable")
    ids = part["channel_import_id"] if kind == "channel" else part["meter_import_id"]
    table = pd.DataFrame(
        {
            "ImportId": ids.astype("string").to_numpy(),
            "Timestamp": format_times(label_times(part, label), ISO_CSV_FORMAT),
            "Value": part["value"].to_numpy(dtype="float64"),
            "Estimated": np.where(part["estimated"].to_numpy(), ESTIMATED_INDICATOR, ""),
            "Note": part["note"].fillna("").to_numpy(),
        }
    )
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\r\n", float_format=None)
    profile = import_profile(kind, obs, unit, interval, time_zone_id, name)
    return ImportFile(
        name=f"{name}.csv",
        data=buffer.getvalue().encode("utf-8"),
        profile=profile,
        count=len(part),
        rows=part["_pos"].to_numpy(dtype="int64"),
    )


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
