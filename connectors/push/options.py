"""What a push reader's per-device options are: kind, default and meaning.

Each push reader lists its options as `OptionSpec`s so that a misspelt or
mistyped option is refused when it is set (naming the valid ones), and
``meterbridge device show`` can list every option with its value or default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

KINDS = ("path", "paths", "text", "list", "map", "bool", "choice", "int")


@dataclass(frozen=True)
class OptionSpec:
    """One reader option.

    Attributes:
        kind: ``path`` (a dotted key path), ``paths`` (a path or a list of
            paths: the first present wins), ``text``, ``list`` (of texts),
            ``map`` (an object), ``bool``, ``choice`` (one of `choices`) or
            ``int``.
        default: the value used when the option is not set (None: see `help`).
        help: one line saying what it does.
        choices: the allowed values of a ``choice``.
    """

    kind: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()


def check_option(name: str, spec: OptionSpec, value: Any) -> str | None:
    """Why `value` cannot be option `name`, or None when it can."""
    if spec.kind == "choice":
        ok = value in spec.choices
        return None if ok else f"option {name}={value!r}: use one of {', '.join(spec.choices)}"
    ok = _kind_ok(spec.kind, value)
    if ok:
        return None
    wanted = {
        "path": 'a key or dotted path, e.g. "data.items"',
        "paths": 'a key or dotted path, or a JSON list of them, e.g. ["readings","reading"]',
        "text": "text",
        "list": 'a JSON list, e.g. ["333","340"]',
        "map": 'a JSON object, e.g. {"KEY": ["001","kWh-register"]}',
        "bool": "true or false",
        "int": "a whole number",
    }[spec.kind]
    return f"option {name}={value!r}: expected {wanted}"


def _kind_ok(kind: str, value: Any) -> bool:
    if kind == "path":
        return isinstance(value, str) and bool(value.strip())
    if kind == "paths":
        return _is_paths(value)
    if kind == "list":
        return isinstance(value, list) and all(isinstance(x, (str, int)) for x in value)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    wanted = {"text": str, "map": dict, "bool": bool}[kind]
    return isinstance(value, wanted)


def _is_paths(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) and v.strip() for v in value)
    )


def as_paths(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    """A ``paths`` option as a tuple of paths (the default when unset)."""
    if value is None or value == "" or value == []:
        return default
    if isinstance(value, str):
        return (value.strip(),)
    return tuple(str(v).strip() for v in value)


def shown(value: Any) -> str:
    """An option value as `device show` prints it (lists of paths as ``a | b``)."""
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return " | ".join(value) if value else "[]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)
