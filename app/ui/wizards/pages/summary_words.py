"""A source's settings as labelled rows in the user's words (no Python values, no keys)."""

from __future__ import annotations

from typing import Any

LABELS = {
    "gateway": "Gateway serial", "serial": "Serial", "tz": "Time zone", "format": "Log file format",
    "timestamp": "Timestamps", "interval_s": "Log interval", "interval": "Interval",
    "circuits": "Circuits imported", "demand": "Demand (kW) too", "cumulative": "Registers",
    "push_url": "Push address", "folder": "Folder", "folders": "Folders", "host": "SFTP server",
    "port": "Port", "user": "User name", "key_file": "Private key file",
    "host_key_fingerprint": "Server key", "client_id": "Client id", "ids": "Circuits",
    "measure": "Measure", "delimiter": "Column separator", "id_column": "Meter id column",
    "time_column": "Time column", "value_column": "Value column", "time_format": "Date format",
    "quantity": "Quantity", "decimal": "Decimal mark", "layout": "Layout", "archive": "Archive to",
    "api_url": "API address", "token_url": "Token address",
}  # fmt: skip
HIDDEN = frozenset({"password", "client_secret"})  # secrets never show


def plain_value(key: str, value: Any) -> str:
    """One value as a person writes it."""
    if key == "cumulative":
        return "cumulative (meter readings)" if value else "interval values"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "interval_s" and isinstance(value, (int, float)):
        return minutes(int(value) // 60)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    if key == "delimiter":
        return {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}.get(str(value), str(value))
    return str(value) if value not in (None, "") else "—"


def minutes(count: int) -> str:
    """“15 minutes”, “1 hour”, “2 hours 30 minutes”."""
    hours, rest = divmod(count, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def setting_rows(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for each setting worth showing."""
    rows = []
    for key, value in settings.items():
        if key in HIDDEN or value in (None, "", [], {}):
            continue
        label = LABELS.get(key, key.replace("_", " ").capitalize())
        rows.append((label, plain_value(key, value)))
    return rows
