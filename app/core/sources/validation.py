"""Pure validation for the setup wizards and dialogs (no Qt, testable alone).

Every ``check_*`` function returns None when the input is fine, else one plain
sentence saying what is wrong and what is expected.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")
HOST_PATTERN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9\-]{0,62})(\.[A-Za-z0-9\-]{1,63})*$"
)
SHA256_PATTERN = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")
MD5_PATTERN = re.compile(r"^(MD5:)?([0-9a-fA-F]{2}:){15}[0-9a-fA-F]{2}$")
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MIN_TOKEN_LENGTH = 16


def check_name(text: str) -> str | None:
    """A source name: letters, digits, space, ``_ . -``; 1 to 64 characters."""
    if not text.strip():
        return "Give the source a name."
    if not NAME_PATTERN.match(text.strip()):
        return "Use letters, digits, spaces, '_', '.' or '-' (at most 64 characters)."
    return None


def check_url(text: str, *, https_only: bool = False) -> str | None:
    """An http(s) URL with a host."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter a full address such as https://app.energycap.com."
    if https_only and parts.scheme != "https":
        return "The address must start with https:// (the key must not travel in clear)."
    return None


def check_host(text: str) -> str | None:
    """A host name or an IP address."""
    value = text.strip()
    if not value:
        return "Enter the host name or IP address."
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    if HOST_PATTERN.match(value):
        return None
    return f"{value!r} is not a host name or IP address."


def check_port(value: int | str) -> str | None:
    """A TCP port, 1 to 65535."""
    try:
        port = int(value)
    except (TypeError, ValueError):
        return f"{value!r} is not a port number."
    return None if 1 <= port <= 65535 else "A port is a number from 1 to 65535."


def check_fingerprint(text: str) -> str | None:
    """An SSH host key fingerprint: ``SHA256:<base64>`` (as ssh-keygen -l prints) or MD5."""
    value = text.strip()
    if SHA256_PATTERN.match(value) or MD5_PATTERN.match(value):
        return None
    return "A fingerprint looks like SHA256:… (43 characters) as `ssh-keygen -lf` prints it."


def check_token(text: str) -> str | None:
    """A push token: at least 16 characters, no spaces."""
    value = text.strip()
    if len(value) < MIN_TOKEN_LENGTH or " " in value:
        return f"The token needs at least {MIN_TOKEN_LENGTH} characters and no spaces."
    return None


def new_token() -> str:
    """A fresh random push token (URL-safe)."""
    return secrets.token_urlsafe(24)


def push_url(host: str, port: int, path: str) -> str:
    """The address a device posts to, e.g. ``http://192.0.2.5:8765/push/episensor``."""
    clean = "/" + path.strip("/")
    return f"http://{host}:{port}{clean}"


def check_required(text: str, what: str) -> str | None:
    """A non-empty field."""
    return None if text.strip() else f"Enter the {what}."


def zone_known(name: object) -> bool:
    """Whether `name` is a time zone this PC knows (``Europe`` alone is a folder, not a zone)."""
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def check_timezone(name: str) -> str | None:
    """An IANA time zone such as Europe/London."""
    if not zone_known(name.strip()):
        return f"{name!r} is not a time zone; use a name such as Europe/London."
    return None


def common_timezones() -> list[str]:
    """Time zone names for a picker: the usual ones first, then all, sorted."""
    first = ["Europe/London", "UTC", "America/New_York", "America/Chicago", "America/Denver"]
    first += ["America/Los_Angeles", "Europe/Dublin", "Europe/Paris", "Australia/Sydney"]
    rest = sorted(available_timezones() - set(first))
    return first + rest


def check_interval_minutes(value: int) -> str | None:
    """A schedule interval between 1 minute and 7 days."""
    if 1 <= value <= 7 * 24 * 60:
        return None
    return "The interval must be between 1 minute and 7 days."


def check_time_of_day(text: str) -> str | None:
    """A 24-hour time such as 06:30."""
    return None if TIME_PATTERN.match(text.strip()) else "Enter a time as HH:MM, e.g. 06:30."


def check_existing_file(text: str) -> str | None:
    """A path to a file that exists."""
    if not text.strip():
        return "Choose a file."
    return None if Path(text.strip()).is_file() else f"No file at {text.strip()}."


def check_existing_folder(text: str) -> str | None:
    """A path to a folder that exists."""
    if not text.strip():
        return "Choose a folder."
    return None if Path(text.strip()).is_dir() else f"No folder at {text.strip()}."


def check_remote_path(text: str) -> str | None:
    """An absolute remote (SFTP) folder path."""
    return None if text.strip().startswith("/") else "The remote folder starts with '/'."


def first_error(*results: str | None) -> str | None:
    """The first message that is not None."""
    return next((r for r in results if r is not None), None)
