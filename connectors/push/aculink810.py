"""AcuLink 810 gateway (and WEB2 / AcuHMI / AXM-WEB2 gateways): Accuenergy JSON and CSV pushes.

Source id ``<gateway>/<meter>/<param>``: gateway = the serial in the payload
or the file name, else the registered device name; meter = the device serial
or name in the body, else the file name's device part, else the form's
``datasource``/"Meter ID", else option ``meter`` or the one meter the device
sent before (see connectors/push/accuenergy/names.py). Delivered by default:
``EP_IMP``/``EP_EXP`` registers (``kWh-register``), demand ``DMD_*`` and
digital inputs (``state``); ``EP_TOTAL``/``EQ`` registers and every other
parameter are opt-in (option ``params`` or ``other_params: keep``), ``*_NET_*``
is never differenced (option ``net_energy``); see
connectors/push/accuenergy/params.py. Key names are options too
(connectors/push/accuenergy/fields.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import ConnectorInfo
from connectors.push.accuenergy import fields as accuenergy_fields
from connectors.push.accuenergy.emit import emit
from connectors.push.accuenergy.params import ParamRules
from connectors.push.accuenergy.payloads import DeviceLog, Series, parse_logs
from connectors.push.common import PointColumns, PushConnector
from connectors.push.options import OptionSpec

INFO = ConnectorInfo(
    id="aculink810",
    name="Accuenergy AcuLink 810 / WEB2 gateway",
    description="Accuenergy snapshot, data-log JSON, WEB2 and data-log CSV pushes",
    file_patterns=("*.json", "*.csv"),
)

OPTIONS: dict[str, OptionSpec] = {
    **accuenergy_fields.OPTIONS,
    "other_params": OptionSpec(
        "choice",
        "skip",
        "parameters other than EP_IMP/EP_EXP energy, DMD_ demand and DI inputs: skip "
        "(listed once per device) or keep all",
        choices=("skip", "keep"),
    ),
    "params": OptionSpec(
        "list",
        [],
        'more parameters to deliver: keys or patterns, e.g. ["EQ_*", "P_kW"]',
    ),
}


def parse_push(data: bytes, name: str, options: Mapping[str, Any]) -> PointColumns:
    """Readings of an AcuLink 810 body as columns.

    Raises:
        SourceError: when the body is not an Accuenergy message or data log.
    """
    logs = parse_logs(data, name, options)
    rules = ParamRules(options)

    def classify(log: DeviceLog, series: Series) -> tuple[str, str] | None:
        """(source id, quantity) of a parameter, or None to skip it."""
        quantity = rules.quantity(series.param, series.unit)
        if quantity is None:
            return None
        return f"{log.meter_key}/{series.param}", quantity

    return emit(logs, name, options, classify)


def sniff_text(text: str, name: str) -> float:
    """High for Accuenergy JSON (gateway/device/readings or comm_head/modules)."""
    if '"comm_head"' in text or ('"device"' in text and '"param"' in text):
        return 0.7
    return 0.0


CONNECTOR = PushConnector(INFO, parse_push, sniff_text)
