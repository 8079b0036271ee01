"""The connectors this build of meterbridge knows, built in one place.

Each connector module adds one line to `all_connectors`; the registry ranks
them for drag-and-drop and `--connector auto`.
"""

from __future__ import annotations

from connectors.base import Connector
from connectors.generic.engine import GenericCsvConnector
from connectors.generic.readings_json import ReadingsJsonConnector
from connectors.push import aculink810, acurev2100, episensor
from connectors.registry import ConnectorRegistry
from connectors.tabular.df2 import StarkDf2Connector
from connectors.tabular.engine import UkHalfHourlyConnector


def all_connectors() -> list[Connector]:
    """Every connector, in menu order (a fresh instance of each that holds state)."""
    found: list[Connector] = []
    found.append(ReadingsJsonConnector())
    found.append(UkHalfHourlyConnector())
    found.append(StarkDf2Connector())
    found.append(episensor.CONNECTOR)  # push readers hold no state: one each is shared
    found.append(aculink810.CONNECTOR)
    found.append(acurev2100.CONNECTOR)
    found.append(GenericCsvConnector())
    return found


def build_registry() -> ConnectorRegistry:
    """The registry of all connectors."""
    return ConnectorRegistry(all_connectors())
