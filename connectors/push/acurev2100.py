"""AcuRev 2100 multi-circuit meter: Accuenergy data logs keyed by a key table.

The key table (option ``key_table``: ``{key: [channel, quantity]}``) says
which parameter keys are read; it extends the shipped default, or replaces it
when option ``replace_key_table`` is true, because firmware generations name
keys differently. Shipped default (2026 firmware templates and real data):
    EP_IMP_001_kWh … EP_IMP_018_kWh     channel 001…018, kWh register
    EP_IMP_s001_kWh … EP_IMP_s009_kWh   user channel s001…s009, kWh register
                                        (EnergyCAP's own connector takes s001…s006)
    DMD_P_001_kW … DMD_P_018_kW, DMD_P_s001_kW … DMD_P_s009_kW   demand, kW
    DI_ST_001 … DI_ST_018, DI1 … DI18, DI_1 … DI_18   digital input, state
                                        (off with ``digital_inputs: false``)
Source id ``<gateway>/<meter>/<channel>`` (``AHI260110088/AcuRev2100/001``,
``…/s001``, ``…/DI_ST_003``): one gateway posts several meters to one URL, so
the meter is part of every id (connectors/push/accuenergy/names.py). Keys not
in the table are skipped and listed. Key names of the JSON payloads and the
CSV layout are options too (connectors/push/accuenergy/fields.py).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from connectors.base import ConnectorInfo, SourceError
from connectors.push.accuenergy import fields as accuenergy_fields
from connectors.push.accuenergy.emit import emit
from connectors.push.accuenergy.payloads import DeviceLog, Series, parse_logs
from connectors.push.common import PointColumns, PushConnector
from connectors.push.options import OptionSpec
from connectors.push.registers import register_quantity

INFO = ConnectorInfo(
    id="acurev2100",
    name="Accuenergy AcuRev 2100",
    description="AcuRev 2100 data-log CSV/JSON (source id <gateway>/<meter>/<channel>)",
    file_patterns=("*AcuRev2100*.csv", "*AcuRev2100*.json"),
)

CIRCUITS = 18
USER_CHANNELS = 9
DIGITAL_INPUTS = 18
DIGITAL_INPUT_KEYS = ("DI_ST_{n:03d}", "DI{n}", "DI_{n}")
OPTIONS: dict[str, OptionSpec] = {
    **accuenergy_fields.OPTIONS,
    "key_table": OptionSpec(
        "map", {}, 'keys read: {"KEY": ["channel", "quantity"]}, added to the shipped table'
    ),
    "replace_key_table": OptionSpec(
        "bool", False, "true: key_table replaces the shipped table instead of extending it"
    ),
    "digital_inputs": OptionSpec(
        "bool", True, "false: the digital inputs (DI_ST_001…, DI1…, DI_1…) are not read"
    ),
}


@functools.cache
def default_key_table() -> Mapping[str, tuple[str, str]]:
    """The shipped key table: key → (channel, quantity) (made once; read-only)."""
    table: dict[str, tuple[str, str]] = {}
    channels = [f"{n:03d}" for n in range(1, CIRCUITS + 1)]
    channels += [f"s{n:03d}" for n in range(1, USER_CHANNELS + 1)]
    for channel in channels:
        table[f"EP_IMP_{channel}_kWh"] = (channel, register_quantity("kWh"))
        table[f"DMD_P_{channel}_kW"] = (channel, "kW")
    for n in range(1, DIGITAL_INPUTS + 1):
        for pattern in DIGITAL_INPUT_KEYS:
            key = pattern.format(n=n)
            table[key] = (key, "state")
    return table


def key_table(options: Mapping[str, Any]) -> Mapping[str, tuple[str, str]]:
    """The device's key table (default, extended or replaced by options).

    Raises:
        SourceError: for a malformed table entry.
    """
    extra = dict(options.get("key_table") or {})
    if (
        not extra
        and not options.get("replace_key_table")
        and options.get("digital_inputs") is not False
    ):
        return default_key_table()
    table = {} if options.get("replace_key_table") else dict(default_key_table())
    for key, entry in extra.items():
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            raise SourceError(f"key table entry {key!r} must be [channel, quantity], got {entry!r}")
        table[str(key)] = (str(entry[0]), str(entry[1]))
    if options.get("digital_inputs") is False:
        table = {k: v for k, v in table.items() if v[1] != "state"}
    return table


def parse_push(data: bytes, name: str, options: Mapping[str, Any]) -> PointColumns:
    """Readings of an AcuRev 2100 body as columns.

    Raises:
        SourceError: when the body is not an Accuenergy data log or message, or
            has none of the key table's keys (a shape the reader does not know).
    """
    logs = parse_logs(data, name, options)
    table = key_table(options)
    keys = {series.param for log in logs for series in log.series}
    if keys and not keys & table.keys():
        found = ", ".join(sorted(keys)[:12])
        raise SourceError(
            f"none of this body's keys is an AcuRev 2100 key (e.g. EP_IMP_001_kWh); keys found: "
            f"{found}: add them to the device's key_table, or map the body by example",
            file=name,
        )

    def classify(log: DeviceLog, series: Series) -> tuple[str, str] | None:
        """(source id, quantity) of a parameter, or None to skip it."""
        entry = table.get(series.param)
        if entry is None:
            return None
        return f"{log.meter_key}/{entry[0]}", entry[1]

    return emit(logs, name, options, classify)


def sniff_text(text: str, name: str) -> float:
    """High for bodies or names that carry AcuRev 2100 keys."""
    if "EP_IMP_0" in text or "acurev2100" in name.lower():
        return 0.85
    return 0.0


CONNECTOR = PushConnector(INFO, parse_push, sniff_text)
