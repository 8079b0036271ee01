"""The connector options a command reading files takes (`convert`, `send`, `pull folder`).

Each flag fills one key of the options dict the connector reads (``--id-column`` ->
``id_column``: the key with dashes); `add_connector_options` adds them all to a
command, `connector_options` collects what the user gave.
"""

from __future__ import annotations

import argparse
from typing import Any

# --<what>-column fills key <what>_column: the column (header name or 1-based number) with it
COLUMN_HELP: dict[str, str] = {
    "id": "column (name or 1-based number) with the source id",
    "time": "column with the reading time",
    "value": "column with the value",
    "quantity": "column with the quantity (kWh, kW ...)",
    "estimated": "column flagging estimated readings",
    "note": "column with a note",
}
# the text options that are not columns: key -> (metavar, help)
TEXT_OPTIONS: dict[str, tuple[str, str]] = {
    "time_format": ("FORMAT", "strptime format of the time column"),
    "delimiter": ("CHAR", "field delimiter of the source"),
    "decimal": ("MARK", "decimal mark of the source ('.' or ',')"),
    "quantity": ("QUANTITY", "quantity of the values when no column says (default kWh)"),
}


def add_connector_options(group: Any) -> None:
    """Add every connector option to `group` (an argument group or parser); dest ``opt_<key>``."""
    for what, text in COLUMN_HELP.items():
        group.add_argument(
            f"--{what}-column", dest=f"opt_{what}_column", metavar="COLUMN", help=text
        )
    for key, (metavar, text) in TEXT_OPTIONS.items():
        flag = "--" + key.replace("_", "-")
        group.add_argument(flag, dest=f"opt_{key}", metavar=metavar, help=text)
    group.add_argument(
        "--interval", dest="opt_interval_s", type=int, metavar="SECONDS",
        help="interval length in SECONDS",
    )  # fmt: skip
    group.add_argument(
        "--layout", dest="opt_layout", metavar="NAME",
        help="UK HH layout name (skips sniffing the layout)",
    )  # fmt: skip
    group.add_argument(
        "--source-label", dest="opt_source_label", choices=("end", "start"),
        help="what the files' times mark (default end)",
    )  # fmt: skip
    group.add_argument(
        "--accept-ambiguous-days", dest="opt_accept_ambiguous_days", action="store_true",
        default=None, help="UK HH: accept clock-change days whose layout is ambiguous",
    )  # fmt: skip


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
