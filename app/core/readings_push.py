"""Readings-API JSON pushes of the common shape as plain columns (no pandas).

The catalog connector (`connectors.generic.readings_json`) validates any body and
names every problem, through pandas: ~10-25 ms for 50 readings, too slow for
a busy push listener. Most pushes have one shape: an array of objects with
exactly-cased keys, numeric values and times with a UTC offset, labelling
interval ends, none estimated. `parse_push` reads those in one tight loop
and gives `PointColumns` (with their mapping hints in ``info``); for
anything else it returns None and the caller uses the connector, so problems
are named the same way as before.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.generic.readings_json import _hints
from connectors.generic.readings_json_body import Target
from connectors.push.common import PointColumns

STRICT_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})"
)
TARGET_KEYS = frozenset(
    {"channelId", "channelImportId", "meterImportId", "observationTypeCode", "unitCode",
     "channelIntervalInSeconds", "readings"}
)  # fmt: skip
READING_KEYS = frozenset({"time", "value", "estimated", "note"})
CODE_LIMIT = 16
ID_LIMIT = 255


def parse_push(data: bytes, name: str, options: Mapping[str, Any]) -> PointColumns | None:
    """The readings of a common-shape body, or None for the general reader to handle."""
    if str(options.get("source_label") or "end") != "end":
        return None
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, list):
        return None
    columns = PointColumns()
    targets: dict[int, Target] = {}
    match = STRICT_TIME.fullmatch
    for number, obj in enumerate(document):
        target = _target(obj, number)
        if target is None:
            return None
        targets[number] = target
        source_id, quantity = target.source_id, target.quantity
        unit, interval = target.unit or quantity, target.interval_s
        for j, item in enumerate(obj["readings"]):
            if type(item) is not dict or not item.keys() <= READING_KEYS:
                return None
            text: Any = item.get("time")
            value: Any = item.get("value")
            flag, note = item.get("estimated"), item.get("note")
            if type(text) is not str or match(text) is None:
                return None
            if type(value) not in (int, float) or not math.isfinite(value):
                return None
            if flag is not None and flag is not False:
                return None  # estimated readings: the connector's frame carries the flag
            if note is not None and type(note) is not str:
                return None
            moment = datetime.fromisoformat(text)
            time_ns = int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
            origin = f"{name}:[{number}].readings[{j}].value"
            columns.add(source_id, quantity, time_ns, float(value), origin, unit=unit,
                        interval_s=interval, note=note or None)  # fmt: skip
    hints, conflicts = _hints(targets, name)
    columns.problems = conflicts
    columns.info = {
        "connector": "readings-json",
        "form": "array",
        "objects": len(document),
        "tz": options.get("tz"),
        "source_label": "end",
        "mapping_hint": hints,
    }
    return columns


def _target(obj: Any, number: int) -> Target | None:
    """The identity of one ReadingCreate of the common shape, else None."""
    if type(obj) is not dict or not obj.keys() <= TARGET_KEYS:
        return None
    readings = obj.get("readings")
    channel_id, interval = obj.get("channelId"), obj.get("channelIntervalInSeconds")
    if type(readings) is not list:
        return None
    for whole in (channel_id, interval):
        if whole is not None and (type(whole) is not int or whole < 0):
            return None
    texts = []
    for key, limit in (("channelImportId", ID_LIMIT), ("meterImportId", ID_LIMIT),
                       ("observationTypeCode", CODE_LIMIT), ("unitCode", CODE_LIMIT)):  # fmt: skip
        value = obj.get(key)
        if value is not None and (
            type(value) is not str or not value.strip() or len(value) > limit
        ):
            return None
        texts.append(value.strip() if value is not None else None)
    if channel_id is None and texts[0] is None and texts[1] is None:
        return None
    return Target(f"[{number}]", channel_id, texts[0], texts[1], texts[2], texts[3], interval or 0)
