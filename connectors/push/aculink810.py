"""AcuLink 810 gateway (and WEB2 / AcuHMI gateways): Accuenergy JSON and CSV pushes.

Source id ``<gateway>/<device>/<param>``: gateway = the serial in the payload
(or the file name / ``datasource`` field), else the registered device name;
device = the device serial, else its name. Parameters in kWh (unit or
``_kWh`` suffix) are cumulative registers (``kWh-register``), kW parameters
are demand (``kW``), ``DI…`` are states. Other parameters (volts, hertz ...)
are skipped and listed, unless option ``other_params`` is ``keep`` (then the
quantity is the unit, or ``value``). Key names are options too (`OPTIONS`,
see connectors/push/accuenergy_fields.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connectors.base import ConnectorInfo, ReadingBatch, Source
from connectors.push import accuenergy_fields
from connectors.push.accuenergy import DeviceLog, Series, emit, param_quantity, parse_logs
from connectors.push.common import PointColumns, read_whole
from connectors.push.options import OptionSpec

OPTIONS: dict[str, OptionSpec] = {
    **accuenergy_fields.OPTIONS,
    "other_params": OptionSpec(
        "choice",
        "skip",
        "parameters not in kWh/kW/kvarh/kvar/DI: skip (listed in the answer) or keep",
        choices=("skip", "keep"),
    ),
}


class AcuLink810Connector:
    """Reads AcuLink 810 / WEB2 snapshot, data-log JSON and data-log CSV pushes."""

    info = ConnectorInfo(
        id="aculink810",
        name="Accuenergy AcuLink 810 / WEB2 gateway",
        description="Accuenergy snapshot, data-log JSON, WEB2 and data-log CSV pushes",
        push=True,
        file_patterns=("*.json", "*.csv"),
    )

    def sniff(self, head: bytes, name: str) -> float:
        """High for Accuenergy JSON (gateway/device/readings or comm_head/modules)."""
        text = head[:4096].decode("utf-8", "replace")
        if '"comm_head"' in text or ('"device"' in text and '"param"' in text):
            return 0.7
        return 0.0

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        """Yield the readings of one message or data-log file."""
        yield from read_whole(source, options, parse_push)


def parse_push(data: bytes, name: str, options: Mapping[str, Any]) -> PointColumns:
    """Readings of an AcuLink 810 body as columns.

    Raises:
        SourceError: when the body is not an Accuenergy message or data log.
    """
    logs = parse_logs(data, name, options)
    registered = str(options.get("device_name") or "gateway")
    keep_others = str(options.get("other_params") or "skip") == "keep"

    def classify(log: DeviceLog, series: Series) -> tuple[str, str] | None:
        """(source id, quantity) of a parameter, or None to skip it."""
        quantity = param_quantity(series.param, series.unit)
        if quantity is None:
            if not keep_others:
                return None
            quantity = series.unit.strip() or "value"
        gateway = log.gateway_serial or registered
        device = log.device_serial or log.device_name or "device"
        return f"{gateway}/{device}/{series.param}", quantity

    return emit(logs, name, options, classify)
