"""Which reader parses a device's pushes, by the device's connector id.

EpiSensor and the Accuenergy readers give plain columns (`PointColumns`),
cheap per request; the listener builds one DataFrame for many requests.
Other push connectors (``readings``: Readings-API-shaped JSON) are used
through the catalog's `Connector.read`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from connectors import aculink810, acurev2100, episensor
from connectors.base import Problem, Source, SourceError, concat_batches
from connectors.push_common import PointColumns

ColumnReader = Callable[[bytes, str, Mapping[str, Any]], PointColumns]

COLUMN_READERS: dict[str, ColumnReader] = {
    "episensor": episensor.parse_push,
    "aculink810": aculink810.parse_push,
    "acurev2100": acurev2100.parse_push,
}
CATALOG_IDS: dict[str, tuple[str, ...]] = {"readings": ("readings-json", "readings")}


def parse_payload(
    connector_id: str, data: bytes, name: str, options: Mapping[str, Any]
) -> PointColumns | tuple[pd.DataFrame, list[Problem], dict[str, Any]]:
    """Parse one push body with the device's reader.

    Raises:
        SourceError: when the body cannot be read at all.
    """
    reader = COLUMN_READERS.get(connector_id)
    if reader is not None:
        return reader(data, name, options)
    connector = _catalog_connector(connector_id)
    batch = concat_batches(list(connector.read(Source.from_bytes(data, name), options)))
    return batch.readings, batch.problems, batch.info


@functools.cache
def _catalog_connector(connector_id: str) -> Any:
    """The catalog's connector for `connector_id` (built once per process)."""
    from app.core.catalog import all_connectors

    wanted = CATALOG_IDS.get(connector_id, (connector_id,))
    for connector in all_connectors():
        if connector.info.id in wanted:
            return connector
    raise SourceError(f"no reader for connector {connector_id!r} in this build")
