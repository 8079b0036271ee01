"""What an Accuenergy parameter key is: register, net energy, demand, digital input, other.

Only cumulative registers are differenced: ``EP_IMP_*``, ``EP_EXP_*``,
``EP_TOTAL_*`` and ``EQ_*`` (older firmware: ``Ep_imp``, ``Eq_…``).
``*_NET_*`` is not a register (it is negative and falls while exporting): it
is skipped by default or passed raw (option ``net_energy: raw``) under the
quantity ``kWh-net`` (never read as use; map it to a channel of its own). Delivered by
default: import/export energy (``EP_IMP``/``EP_EXP``), demand (``DMD_*``,
not the predicted ``PRED_DMD_*``) and digital inputs (``DI_ST_001``, ``DI4``,
``DI_4``); every other parameter is opt-in (option ``params``: keys or
shell-style patterns, or ``other_params: keep`` for all).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

REGISTER = re.compile(r"^(EP_(IMP|EXP|TOTAL)|EQ)(_|$)", re.IGNORECASE)
DEFAULT_REGISTER = re.compile(r"^EP_(IMP|EXP)(_|$)", re.IGNORECASE)
NET = re.compile(r"(^|_)NET(_|$)", re.IGNORECASE)
DEMAND = re.compile(r"^DMD_", re.IGNORECASE)
DIGITAL_INPUT = re.compile(r"^DI(_ST)?_?\d+$", re.IGNORECASE)
UNIT_SUFFIXES = {
    "kwh": "kWh",
    "kvarh": "kVArh",
    "kvah": "kVAh",
    "kw": "kW",
    "kvar": "kVAr",
    "kva": "kVA",
    "a": "A",
    "v": "V",
    "hz": "Hz",
}
NET_CHOICES = ("skip", "raw")


def unit_of(param: str, unit: str) -> str:
    """The unit of a parameter: its ``_<unit>`` suffix, else the unit given, else ``value``."""
    suffix = param.rsplit("_", 1)[-1].lower() if "_" in param else ""
    if suffix in UNIT_SUFFIXES:
        return UNIT_SUFFIXES[suffix]
    given = unit.strip()
    return UNIT_SUFFIXES.get(given.lower(), given) or "value"


class ParamRules:
    """Which parameters a device delivers, and as what quantity (per device options)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.keep_all = str(options.get("other_params") or "skip") == "keep"
        self.patterns = [str(p) for p in options.get("params") or ()]
        self.net = str(options.get("net_energy") or "skip")
        self._cache: dict[tuple[str, str], str | None] = {}

    def opted(self, param: str) -> bool:
        """Whether the user asked for `param` (option ``params`` or ``other_params: keep``)."""
        return self.keep_all or any(fnmatch.fnmatchcase(param, p) for p in self.patterns)

    def quantity(self, param: str, unit: str) -> str | None:
        """The quantity `param` is delivered as (``kWh-register`` …), or None to skip it."""
        key = (param, unit)
        if key not in self._cache:
            self._cache[key] = self._decide(param, unit)
        return self._cache[key]

    def _decide(self, param: str, unit: str) -> str | None:
        base = unit_of(param, unit)
        if NET.search(param):  # raw values under their own quantity, never use
            return f"{base}-net" if self.net == "raw" or self.opted(param) else None
        if REGISTER.match(param):
            wanted = DEFAULT_REGISTER.match(param) or self.opted(param)
            return f"{base}-register" if wanted else None
        if DEMAND.match(param) or DIGITAL_INPUT.match(param):
            return "state" if DIGITAL_INPUT.match(param) else base
        return base if self.opted(param) else None
