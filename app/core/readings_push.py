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
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

from connectors.generic.readings_json import _hints
from connectors.generic.readings_json_body import Target
from connectors.push.bodies import loads_json
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
WHOLE_OR_NONE = (int, type(None))
TEXT_OR_NONE = (str, type(None))
ID_LIMIT = 255


def parse_push(data: bytes, name: str, options: Mapping[str, Any]) -> PointColumns | None:
    """The readings of a common-shape body, or None for the general reader to handle.

    One pass straight into the columns: each distinct identity (ids, codes,
    interval) is checked once (and remembered across bodies, with its mapping
    hint) and each distinct time text parsed once per body.
    """
    if str(options.get("source_label") or "end") != "end":
        return None
    try:
        document = loads_json(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(document, list):
        return None
    columns = PointColumns()
    used = _read_objects(document, name, columns)
    if used is None:
        return None
    hints, keys = _distinct_hints(used, options.get("sent_hints") or ())
    if hints is None:  # two identities name one (source, quantity): `_hints` names them
        hints, columns.problems = _hints(_targets_by_object(used), name)
    columns.info = {
        "connector": "readings-json",
        "form": "array",
        "objects": len(document),
        "tz": options.get("tz"),
        "source_label": "end",
        "mapping_hint": hints,
        "mapping_hint_keys": keys,  # what tells each hint apart (listener: sent once)
    }
    return columns


class Channel(NamedTuple):
    """A ReadingCreate's checked identity: its target, what each of its readings carries,
    and its mapping hint (`Target.hint`, made once)."""

    target: Target
    source_id: str
    quantity: str
    unit: str
    interval_s: int
    hint: dict[str, Any]
    hint_key: tuple[Any, ...]  # the hint's items (hashable)


MAX_CHECKED = 10_000
CHECKED: dict[tuple[Any, ...], Channel] = {}  # identities already checked (any thread, any body)


def _read_objects(document: list[Any], name: str, columns: PointColumns) -> list[Channel] | None:
    """Append every object's readings to `columns`; each object's identity (None: not the
    common shape). One loop, no call per reading: this is the listener's hot path."""
    used: list[Channel] = []
    times: dict[str, int] = {}
    match, checked = STRICT_TIME.fullmatch, CHECKED.get
    add_time, add_value = columns.time_ns.append, columns.value.append
    add_note, add_origin = columns.note.append, columns.origin.append
    add_source, add_quantity = columns.source_id.append, columns.quantity.append
    add_unit, add_interval = columns.unit.append, columns.interval_s.append
    for number, obj in enumerate(document):
        if type(obj) is not dict or not obj.keys() <= TARGET_KEYS:
            return None
        get = obj.get
        identity = (get("channelId"), get("channelImportId"), get("meterImportId"),
                    get("observationTypeCode"), get("unitCode"),
                    get("channelIntervalInSeconds"))  # fmt: skip
        if type(identity[0]) not in WHOLE_OR_NONE or type(identity[5]) not in WHOLE_OR_NONE:
            return None  # checked on every object: 1.0 or True would find the identity of 1
        channel = checked(identity) or _checked(obj, number, identity)
        if channel is None:
            return None
        used.append(channel)
        items = get("readings")
        if type(items) is not list:
            return None
        for j, item in enumerate(items):
            if type(item) is not dict or not item.keys() <= READING_KEYS:
                return None
            text: Any = item.get("time")
            value: Any = item.get("value")
            note = item.get("note")
            if type(value) not in (int, float) or not math.isfinite(value):
                return None
            if item.get("estimated") not in (None, False) or type(note) not in TEXT_OR_NONE:
                return None  # estimated readings: the connector's frame carries the flag
            time_ns = times.get(text) if type(text) is str else None
            if time_ns is None:
                if type(text) is not str or match(text) is None:
                    return None
                moment = datetime.fromisoformat(text)
                time_ns = times[text] = (
                    int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
                )
            add_time(time_ns)
            add_value(float(value))
            add_note(note or None)
            add_origin(f"{name}:[{number}].readings[{j}].value")
            add_source(channel.source_id)
            add_quantity(channel.quantity)
            add_unit(channel.unit)
            add_interval(channel.interval_s)
    return used


def _checked(obj: dict[str, Any], number: int, identity: tuple[Any, ...]) -> Channel | None:
    """The checked identity of one ReadingCreate (remembered across bodies), else None."""
    channel = _channel(obj, number)
    if channel is not None:
        if len(CHECKED) >= MAX_CHECKED:
            CHECKED.clear()
        CHECKED[identity] = channel  # a device names the same channels push after push
    return channel


def _distinct_hints(
    used: list[Channel], sent: Collection[tuple[Any, ...]]
) -> tuple[list[dict[str, Any]] | None, list[tuple[Any, ...]]]:
    """One hint per identity, in order of first use, and their keys, leaving out those whose
    key is in `sent` (hints the listener already committed); copies: a job may keep them.
    (None, []) when two identities name one (source, quantity)."""
    firsts = list(dict.fromkeys(map(id, used)))
    by_id = {id(channel): channel for channel in used}
    channels = [by_id[key] for key in firsts]
    if len(channels) > 1 and len({(k.source_id, k.quantity) for k in channels}) != len(channels):
        return None, []
    new = [channel for channel in channels if channel.hint_key not in sent]
    return [dict(channel.hint) for channel in new], [channel.hint_key for channel in new]


def _targets_by_object(used: list[Channel]) -> dict[int, Target]:
    """Each object's own target for `_hints` when identities conflict: `_hints` names every
    object that follows the first of a (source, quantity)."""
    return {n: replace(channel.target, path=f"[{n}]") for n, channel in enumerate(used)}


def _channel(obj: Any, number: int) -> Channel | None:
    """A ReadingCreate's identity checked, with what its readings carry; else None."""
    target = _target(obj, number)
    if target is None:
        return None
    quantity = target.quantity
    unit, hint = target.unit or quantity, target.hint()
    key = tuple(sorted(hint.items()))
    return Channel(target, target.source_id, quantity, unit, target.interval_s, hint, key)


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
