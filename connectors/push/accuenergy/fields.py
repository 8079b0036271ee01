"""Key paths of Accuenergy payloads: per-device options over the documented names.

The payload schemas are not published and firmware generations differ, so
every key the reader looks up is an option (a dotted path, or a list of
paths where the first present wins) with the documented name as default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import SourceError
from connectors.push.common import dig
from connectors.push.options import OptionSpec, as_paths, check_option

DELIMITERS = {",": ",", ";": ";", "tab": "\t", "|": "|"}

# option → (default paths, where they are looked up, what they find)
FIELD_DEFAULTS: dict[str, tuple[tuple[str, ...], str]] = {
    "timestamp_path": (("timestamp", "time"), "message: the time (a value, or the data-log array)"),
    "device_path": (("device",), "message: the device object (snapshot / data log)"),
    "modules_path": (("modules",), "message: the WEB2 modules array"),
    "gateway_serial_path": (("gateway.serial", "comm_head.sn"), "message: the gateway serial"),
    "readings_path": (("readings", "reading"), "device/module: the readings array"),
    "device_serial_path": (("serial", "sn"), "device/module: the device serial"),
    "device_name_path": (("name",), "device/module: the device name"),
    "model_path": (("model",), "device/module: the device model"),
    "param_path": (("param",), "reading: the parameter key"),
    "value_path": (("value",), "reading: the value (an array in a data log)"),
    "unit_path": (("unit",), "reading: the unit"),
}
OPTIONS: dict[str, OptionSpec] = {
    **{
        name: OptionSpec("paths", list(default), f"key or dotted path in the {where}")
        for name, (default, where) in FIELD_DEFAULTS.items()
    },
    "columns": OptionSpec(
        "list", [], "data-log CSV without a header: the column keys in file order"
    ),
    "time_column": OptionSpec(
        "text", None, "data-log CSV: the time column's header (default: the first column)"
    ),
    "delimiter": OptionSpec(
        "choice", ",", "data-log CSV: the cell separator", choices=tuple(DELIMITERS)
    ),
    "meter": OptionSpec(
        "text",
        None,
        "the meter of pushes that do not name one (fixed post name, no serial in the body)",
    ),
    "zone_from_file_name": OptionSpec(
        "bool",
        False,
        "true: local times take the zone from the file name's UTC epoch (else --tz, checked "
        "against the name)",
    ),
    "net_energy": OptionSpec(
        "choice",
        "skip",
        "EP_NET_* (not a register: negative while exporting): skip, or raw values as they are",
        choices=("skip", "raw"),
    ),
}


class Fields:
    """The key paths of one device's Accuenergy payloads (options over the defaults)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        """Read the path options.

        Raises:
            SourceError: for an option that is not a path or a list of paths.
        """
        self.paths: dict[str, tuple[str, ...]] = {}
        for name, (default, _) in FIELD_DEFAULTS.items():
            value = options.get(name)
            problem = None if value is None else check_option(name, OPTIONS[name], value)
            if problem:
                raise SourceError(f"device {problem}")
            self.paths[name] = as_paths(value, default)
        self._keys = _plain_keys(self.paths)

    def get(self, node: Any, option: str) -> Any:
        """The first of the option's paths present in `node` (None when none is)."""
        if not isinstance(node, dict):
            return None
        keys = self._keys[option]
        if keys is not None and len(keys) == 1:  # the common case: one plain key
            return node.get(keys[0])
        if keys is not None:  # no dotted path: looked up directly (what `dig` does for them)
            for key in keys:
                found = node.get(key)
                if found is not None:
                    return found
            return None
        for path in self.paths[option]:
            found = dig(node, path)
            if found is not None:
                return found
        return None

    def with_readings_at(self, path: str) -> Fields:
        """A copy that finds a device's readings at `path` (readings moved from the top level)."""
        copy = Fields({})
        copy.paths = {**self.paths, "readings_path": (path,)}
        copy._keys = _plain_keys(copy.paths)
        return copy

    def names(self, option: str) -> str:
        """The option's paths for messages (``'readings' or 'reading'``)."""
        return " or ".join(repr(p) for p in self.paths[option])


def _plain_keys(paths: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...] | None]:
    """Each option's paths when none is dotted (plain keys), else None."""
    return {
        option: None if any("." in path for path in found) else found
        for option, found in paths.items()
    }


def fields_for(options: Mapping[str, Any]) -> Fields:
    """The device's `Fields` (the documented defaults, made once, when it sets none).

    Raises:
        SourceError: see `Fields`.
    """
    if any(options.get(name) is not None for name in FIELD_DEFAULTS):
        return Fields(options)
    return _DEFAULT_FIELDS


_DEFAULT_FIELDS = Fields({})  # never changed: `with_readings_at` makes a copy
