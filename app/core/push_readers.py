"""Which reader parses a device's pushes, by the device's connector id.

EpiSensor and the Accuenergy readers give plain columns (`PointColumns`),
cheap per request; the listener builds one DataFrame for many requests.
Other push connectors (``readings``: Readings-API-shaped JSON) are used
through the catalog's `Connector.read`. `reader_option_specs` lists the
per-device options each reader takes (checked when a device is added or
changed, listed by ``meterbridge device show``).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Any

import pandas as pd

from app.core import readings_push
from connectors.base import Problem, Source, SourceError, concat_batches
from connectors.push import aculink810, acurev2100, episensor, mapped
from connectors.push.common import TIME_ENCODINGS, ColumnReader, PointColumns
from connectors.push.options import OptionSpec, check_option
from connectors.push.registers import RESET_RULES

COLUMN_READERS: dict[str, ColumnReader] = {
    reader.info.id: reader.parse
    for reader in (episensor.CONNECTOR, aculink810.CONNECTOR, acurev2100.CONNECTOR)
}
CATALOG_IDS: dict[str, tuple[str, ...]] = {"readings": ("readings-json", "readings")}

POLICIES = ("hold", "refuse")
# Readers whose format is inferred hold what they cannot read (answer 202: the
# gateway does not resend, the body waits to be mapped and replayed); a
# validated format (Readings-API JSON) is refused (400: the sender fixes and resends).
DEFAULT_POLICY = {
    "episensor": "hold",
    "aculink810": "hold",
    "acurev2100": "hold",
    "readings": "refuse",
}


def policy_option(connector_id: str) -> OptionSpec:
    """The ``on_unreadable`` option of a reader, with its default policy."""
    return OptionSpec(
        "choice",
        DEFAULT_POLICY.get(connector_id, "refuse"),
        "a push this reader cannot read: hold (202 'held for mapping', kept until mapped "
        "and replayed) or refuse (400: the device keeps it and resends)",
        POLICIES,
    )


def unreadable_policy(connector_id: str, options: Mapping[str, Any]) -> str:
    """``hold`` or ``refuse``: what a device does with a push its reader cannot read."""
    chosen = str(options.get("on_unreadable") or DEFAULT_POLICY.get(connector_id, "refuse"))
    return chosen if chosen in POLICIES else "refuse"


MAPPING_OPTION = OptionSpec(
    "map",
    None,
    "a map-by-example of this device's pushes (points, id, time, value paths …; set with "
    "`meterbridge device map` or the app's Map held pushes…); replaces the reader",
)
COMMON_OPTIONS: dict[str, OptionSpec] = {
    "time_encoding": OptionSpec(
        "text", "auto", f"{' | '.join(TIME_ENCODINGS)} | a strptime format such as %d/%m/%Y %H:%M"
    ),
    "registers": OptionSpec(
        "choice",
        "difference",
        "raw: every register value of this device is sent as it is (a mapping row's "
        "register column does it per source)",
        choices=("difference", "raw"),
    ),
    "reset_rule": OptionSpec(
        "choice", "from_zero", "a register drop: use counted from zero, or skip", RESET_RULES
    ),
    "mapping": MAPPING_OPTION,
}
EPISENSOR_OPTIONS: dict[str, OptionSpec] = {
    "points_path": OptionSpec(
        "path",
        None,
        "dotted path to the points array (default: the top-level array, "
        f"else the first under {'/'.join(episensor.ARRAY_KEYS)})",
    ),
    "id_path": OptionSpec("path", list(episensor.ID_KEYS), "key of the export ID in a point"),
    "time_path": OptionSpec("path", list(episensor.TIME_KEYS), "key of the time in a point"),
    "value_path": OptionSpec("path", list(episensor.VALUE_KEYS), "key of the value in a point"),
    "register_ids": OptionSpec(
        "list", list(episensor.REGISTER_IDS), "export-ID suffixes that are kWh registers"
    ),
    "register_sources": OptionSpec("list", [], "whole export IDs that are kWh registers"),
    "not_register_sources": OptionSpec("list", [], "export IDs that are not registers"),
    "quantities": OptionSpec("map", {}, '{"<export ID or suffix>": "<quantity>"}'),
    "default_quantity": OptionSpec("text", "value", "quantity of other sensors"),
}
READER_OPTIONS: dict[str, dict[str, OptionSpec]] = {
    "episensor": {
        **COMMON_OPTIONS,
        **EPISENSOR_OPTIONS,
        "on_unreadable": policy_option("episensor"),
    },
    "aculink810": {
        **COMMON_OPTIONS,
        **aculink810.OPTIONS,
        "on_unreadable": policy_option("aculink810"),
    },
    "acurev2100": {
        **COMMON_OPTIONS,
        **acurev2100.OPTIONS,
        "on_unreadable": policy_option("acurev2100"),
    },
    "readings": {
        "source_label": OptionSpec(
            "choice", "end", "times in the body label the interval end or start", ("end", "start")
        ),
        "on_unreadable": policy_option("readings"),
        "mapping": MAPPING_OPTION,
    },
}


def reader_option_specs(connector_id: str) -> dict[str, OptionSpec]:
    """The per-device options the reader of `connector_id` takes (name → spec)."""
    return READER_OPTIONS.get(connector_id, {})


def option_problem(connector_id: str, options: Mapping[str, Any]) -> str | None:
    """Why `options` cannot be given to a `connector_id` device, or None when they can."""
    specs = reader_option_specs(connector_id)
    for key, value in options.items():
        spec = specs.get(key)
        problem = _unknown(key, connector_id, specs) if spec is None else None
        problem = problem or (check_option(key, spec, value) if spec else None)
        if problem:
            return problem
    encoding = options.get("time_encoding")
    if encoding and encoding not in TIME_ENCODINGS and "%" not in str(encoding):
        return (
            f"option time_encoding={encoding!r}: use one of {', '.join(TIME_ENCODINGS)} "
            "or a strptime format such as %d/%m/%Y %H:%M"
        )
    if options.get("mapping") is not None:
        problem = mapped.mapping_problem(options["mapping"])
        if problem:
            return problem
    if connector_id == "acurev2100":
        try:
            acurev2100.key_table(options)
        except SourceError as exc:
            return f"option {exc.message}"
    return None


def _unknown(key: str, connector_id: str, specs: Mapping[str, OptionSpec]) -> str:
    close = difflib.get_close_matches(key, list(specs), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    if key == "tz":
        hint = " (the time zone is the device's --tz)"
    valid = ", ".join(sorted(specs)) or "none"
    return f"unknown option {key!r} for {connector_id} devices{hint}; valid options: {valid}"


def parse_payload(
    connector_id: str, data: bytes, name: str, options: Mapping[str, Any]
) -> PointColumns | tuple[pd.DataFrame, list[Problem], dict[str, Any]]:
    """Parse one push body with the device's reader.

    Raises:
        SourceError: when the body cannot be read at all.
        SlowPath: with option ``quick_only``, when only the catalog connector reads it.
    """
    if options.get("mapping"):
        return mapped.parse_push(data, name, options)  # the user's map-by-example wins
    reader = COLUMN_READERS.get(connector_id)
    if reader is not None:
        return reader(data, name, options)
    if connector_id == "readings":  # the common shape without pandas, else the connector
        common = readings_push.parse_push(data, name, options)
        if common is not None:
            return common
    if options.get("quick_only"):
        raise SlowPath(f"{connector_id}: this body needs the catalog connector (pandas)")
    connector = _catalog_connector(connector_id)
    batch = concat_batches(list(connector.read(Source.from_bytes(data, name), options)))
    return batch.readings, batch.problems, batch.info


class SlowPath(Exception):
    """Option ``quick_only``: the body needs the catalog connector (pandas, 10-25 ms), which
    the listener's event loop must not run: read it on a worker thread instead."""


@functools.cache
def _catalog_connector(connector_id: str) -> Any:
    """The catalog's connector for `connector_id` (built once per process)."""
    from app.core.connector_catalog import all_connectors

    wanted = CATALOG_IDS.get(connector_id, (connector_id,))
    for connector in all_connectors():
        if connector.info.id in wanted:
            return connector
    raise SourceError(f"no reader for connector {connector_id!r} in this build")
