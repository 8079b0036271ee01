"""The connectors this build of meterbridge knows, built in one place.

Each connector module adds one line to `all_connectors`; the registry ranks
them for drag-and-drop and `--connector auto`.
"""

from __future__ import annotations

from connectors.base import Connector
from connectors.generic.engine import GenericCsvConnector
from connectors.generic.readings_json import ReadingsJsonConnector
from connectors.push.aculink810 import AcuLink810Connector
from connectors.push.acurev2100 import AcuRev2100Connector
from connectors.push.episensor import EpiSensorConnector
from connectors.registry import ConnectorRegistry
from connectors.tabular.df2 import StarkDf2Connector
from connectors.tabular.engine import UkHalfHourlyConnector


def all_connectors() -> list[Connector]:
    """A fresh instance of every connector, in menu order."""
    found: list[Connector] = []
    found.append(ReadingsJsonConnector())
    found.append(UkHalfHourlyConnector())
    found.append(StarkDf2Connector())
    found.append(EpiSensorConnector())
    found.append(AcuLink810Connector())
    found.append(AcuRev2100Connector())
    found.append(GenericCsvConnector())
    return found


def build_registry() -> ConnectorRegistry:
    """The registry of all connectors."""
    return ConnectorRegistry(all_connectors())
