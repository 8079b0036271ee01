"""What makes a push device usable: its name, connector, time zones and reader options.

Used when a device is added or changed (`validate`, `validate_options` raise
`DeviceError`) and when ``devices.json`` is read (`device_problem`: a device an
administrator edited by hand into something this PC cannot use is still
loaded, so its pushes are refused with `misconfigured_answer` while every other
device is served).
"""

from __future__ import annotations

import re
from typing import Any

from app.core.sources.validation import zone_known

PUSH_CONNECTORS = ("episensor", "aculink810", "acurev2100", "readings")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ZONE_HINT = "use a name such as Europe/London or America/New_York"


class DeviceError(ValueError):
    """A device definition that cannot be used; the message says what to change."""


def validate(name: str, connector: str, tz: str) -> None:
    """Check a device definition.

    Raises:
        DeviceError: naming the bad field.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise DeviceError(
            f"device name {name!r}: use 1-64 letters, digits, '.', '_' or '-' (it goes in the URL)"
        )
    if connector not in PUSH_CONNECTORS:
        raise DeviceError(f"connector {connector!r}: use one of {', '.join(PUSH_CONNECTORS)}")
    check_zone(tz, "The time zone")


def check_zone(tz: Any, what: str) -> None:
    """Raise `DeviceError` naming `tz` unless it is a time zone this PC knows."""
    if not isinstance(tz, str) or not zone_known(tz):
        raise DeviceError(f"{what} {tz!r} is not a time zone this PC knows; {ZONE_HINT}")


def validate_options(options: dict[str, Any], connector: str) -> None:
    """Check the reader options a device is given (names, kinds and allowed values).

    Raises:
        DeviceError: naming the option and what it accepts (an unknown name: the valid ones).
    """
    from app.core.push_readers import option_problem  # the readers load pandas: only when checking

    mapping = options.get("mapping")
    if isinstance(mapping, dict) and "tz" in mapping:  # the zone of times the mapping reads
        check_zone(mapping["tz"], "The mapping's time zone")
    problem = option_problem(connector, options)
    if problem:
        raise DeviceError(problem)


def device_problem(
    name: Any, connector: Any, tz: Any, options: Any, token: Any = "", interval: Any = 0
) -> str | None:
    """Why a stored device cannot be used, with how to fix it; None when it can.

    Checks what a hand edit can break without the listener noticing before a
    push: the name, the connector, the options' shape, the token hash, the
    expected interval and every time zone (the device's, the ``tz`` option,
    the mapping's). Cheap: no reader is imported.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return f"the name {name!r} cannot go in a push URL: use 1-64 letters, digits, '.', '_', '-'"
    if connector not in PUSH_CONNECTORS:
        return f"connector {connector!r} is not one of {', '.join(PUSH_CONNECTORS)}"
    if not isinstance(options, dict):
        return f"its options are {type(options).__name__}, not an object {{...}}"
    if not isinstance(token, str):
        return f"token_sha256 {token!r} is not text (`meterbridge device token {name} --new`)"
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
        fix = f"meterbridge device set {name} --expected-interval SECONDS"
        return f"expected_interval_s {interval!r} is not a whole number of seconds (`{fix}`)"
    for value, what, fix in _zones(name, tz, options):
        if not isinstance(value, str) or not zone_known(value):
            return f"{what} {value!r} is not a time zone this PC knows; {ZONE_HINT} (fix: `{fix}`)"
    return None


def _zones(name: str, tz: Any, options: dict[str, Any]) -> list[tuple[Any, str, str]]:
    """The device's time zones: (value, what it is, the command that changes it)."""
    command = f"meterbridge device set {name}"
    zones = [(tz, "time zone", f"{command} --tz ZONE")]
    if options.get("tz") not in (None, ""):  # an empty option means the device's zone
        zones.append((options["tz"], "option tz", f"{command} --set tz=ZONE"))
    mapping = options.get("mapping")
    if isinstance(mapping, dict) and "tz" in mapping:
        fix = f"meterbridge device map {name} … --tz ZONE"
        zones.append((mapping["tz"], "the mapping's time zone", fix))
    return zones


def misconfigured_answer(name: str, problem: str, capture_id: int | None) -> dict[str, Any]:
    """The JSON answer to a push for a device whose stored configuration is broken."""
    return {
        "error": f"the configuration of device {name!r} on this meterbridge is broken: {problem}",
        "captured": capture_id,
        "hint": (
            "nothing was stored; the body was captured. Send again once the administrator has "
            f"fixed the device (`meterbridge device check`; `meterbridge device captures {name}`)"
        ),
    }
