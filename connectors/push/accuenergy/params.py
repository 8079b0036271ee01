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
import functools
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
        self.patterns = tuple(str(p) for p in options.get("params") or ())
        self.net = str(options.get("net_energy") or "skip")

    def opted(self, param: str) -> bool:
        """Whether the user asked for `param` (option ``params`` or ``other_params: keep``)."""
        return _opted(self.keep_all, self.patterns, param)

    def quantity(self, param: str, unit: str) -> str | None:
        """The quantity `param` is delivered as (``kWh-register`` …), or None to skip it."""
        decide = _decide if len(param) + len(unit) <= _CACHED_TEXT else _decide.__wrapped__
        return decide(self.keep_all, self.patterns, self.net, param, unit)


def _opted(keep_all: bool, patterns: tuple[str, ...], param: str) -> bool:
    return keep_all or any(fnmatch.fnmatchcase(param, p) for p in patterns)


_CACHED_TEXT = 200  # characters of parameter and unit: longer ones are decided each time


@functools.lru_cache(maxsize=4096)  # the same few parameters arrive with every push
def _decide(
    keep_all: bool, patterns: tuple[str, ...], net: str, param: str, unit: str
) -> str | None:
    base = unit_of(param, unit)
    if NET.search(param):  # raw values under their own quantity, never use
        return f"{base}-net" if net == "raw" or _opted(keep_all, patterns, param) else None
    if REGISTER.match(param):
        wanted = DEFAULT_REGISTER.match(param) or _opted(keep_all, patterns, param)
        return f"{base}-register" if wanted else None
    if DEMAND.match(param) or DIGITAL_INPUT.match(param):
        return "state" if DIGITAL_INPUT.match(param) else base
    return base if _opted(keep_all, patterns, param) else None
