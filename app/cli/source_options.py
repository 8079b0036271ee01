"""The connector options a command reading files takes (`convert`, `send`, `pull folder`).

Each flag fills one key of the options dict the connector reads (``--id-column`` ->
``id_column``); `connector_options` collects what the user gave.
"""

from __future__ import annotations

import argparse
from typing import Any

# (flag, options key, help, type)
CONNECTOR_OPTIONS: tuple[tuple[str, str, str, Any], ...] = (
    ("--id-column", "id_column", "column (name or 1-based number) with the source id", str),
    ("--time-column", "time_column", "column with the reading time", str),
    ("--value-column", "value_column", "column with the value", str),
    ("--quantity-column", "quantity_column", "column with the quantity (kWh, kW ...)", str),
    ("--estimated-column", "estimated_column", "column flagging estimated readings", str),
    ("--note-column", "note_column", "column with a note", str),
    ("--time-format", "time_format", "strptime format of the time column", str),
    ("--delimiter", "delimiter", "field delimiter of the source", str),
    ("--decimal", "decimal", "decimal mark of the source ('.' or ',')", str),
    ("--quantity", "quantity", "quantity of the values when no column says (default kWh)", str),
    ("--interval", "interval_s", "interval length in SECONDS", int),
    ("--layout", "layout", "UK HH layout name (skips sniffing the layout)", str),
)

METAVARS = {
    "time_format": "FORMAT",
    "delimiter": "CHAR",
    "decimal": "MARK",
    "interval_s": "SECONDS",
}
METAVARS |= {"layout": "NAME", "quantity": "QUANTITY"}


def connector_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options dict for the connector: only what the user gave, plus `tz`."""
    options = {
        name[4:]: value
        for name, value in vars(args).items()
        if name.startswith("opt_") and value is not None
    }
    if args.tz:
        options["tz"] = args.tz
    return options
