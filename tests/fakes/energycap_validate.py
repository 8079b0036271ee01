"""Validation of request bodies against the vendor SDK's msrest models.

Two passes, both driven by the models' own `_attribute_map` / `_validation`:
a strict JSON walk (unknown keys, wrong JSON types, naive times: things
msrest's lenient Deserializer would let through) and then msrest itself
(Deserializer + `Model.validate()`: required fields, lengths, ranges).
The ESA body has no SDK model (the SDK is from 2023), so `EsaReadingCreate`
below is an msrest model written to mirror `ReadingCreate`'s rules.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import datetime
from typing import Any, ClassVar

from energycap.sdk import models as sdk
from msrest import Deserializer
from msrest.serialization import Model

MAX_ERRORS = 20
MSREST_SAMPLE = 50


class BodyError(ValueError):
    """A request body the real API would answer 400 for; str() lists the problems."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:MAX_ERRORS]))
        self.problems = problems


class EsaReadingCreate(Model):  # type: ignore[misc]
    """POST /api/v202407/esaReading element: ReadingCreate's rules with ESA identifiers."""

    _validation: ClassVar[dict[str, dict[str, Any]]] = {
        "esa_channel_import_id": {"max_length": 255, "min_length": 0},
        "data_point_import_id": {"max_length": 255, "min_length": 0},
        "observation_type_code": {"max_length": 16, "min_length": 0},
        "unit_code": {"max_length": 16, "min_length": 0},
        "esa_channel_interval_minutes": {"minimum": 1},
        "readings": {"required": True},
    }
    _attribute_map: ClassVar[dict[str, dict[str, Any]]] = {
        "esa_channel_id": {"key": "esaChannelId", "type": "int"},
        "esa_channel_import_id": {"key": "esaChannelImportId", "type": "str"},
        "data_point_import_id": {"key": "dataPointImportId", "type": "str"},
        "observation_type_code": {"key": "observationTypeCode", "type": "str"},
        "unit_code": {"key": "unitCode", "type": "str"},
        "esa_channel_interval_minutes": {"key": "esaChannelIntervalMinutes", "type": "int"},
        "readings": {"key": "readings", "type": "[Reading]"},
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for attr in self._attribute_map:
            setattr(self, attr, kwargs.get(attr))


MODELS: dict[str, type] = {k: v for k, v in vars(sdk).items() if isinstance(v, type)}
MODELS["EsaReadingCreate"] = EsaReadingCreate
_DESERIALIZE = Deserializer(MODELS)
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,7})?)?(Z|[+-]\d\d:?\d\d)?$")


@functools.lru_cache(maxsize=1 << 16)  # a datetime is immutable: repeated texts share one
def parse_time(text: str) -> datetime:
    """An ISO-8601 time with an explicit offset.

    Raises:
        ValueError: when the text is not ISO-8601 or carries no UTC offset.
    """
    if not _ISO.match(text):
        raise ValueError(f"time {text!r} is not an ISO-8601 date-time")
    main, dot, rest = text.partition(".")
    if dot:  # .NET sends up to 7 fraction digits; Python takes 6
        digits = re.match(r"\d+", rest)
        assert digits is not None
        text = f"{main}.{digits.group()[:6].ljust(6, '0')}{rest[digits.end() :]}"
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(
            f"time {text!r} has no UTC offset; a naive time is ambiguous and is refused"
        )
    return value


def validate_body(model: str, body: Any) -> None:
    """Validate a JSON array of `model` objects (e.g. ReadingCreate).

    Raises:
        BodyError: naming each problem with its JSON path.
    """
    if not isinstance(body, list):
        raise BodyError([f"body: expected a JSON array of {model}, got {_kind(body)}"])
    if not body:
        raise BodyError([f"body: the array of {model} is empty"])
    problems: list[str] = []
    for n, item in enumerate(body):
        problems += check_model(MODELS[model], item, f"[{n}]")
        if len(problems) >= MAX_ERRORS:
            break
    if not problems:  # msrest confirms on a sample: the strict walk saw every reading
        problems = msrest_problems(f"[{model}]", [_sample(item) for item in body])
    if problems:
        raise BodyError(problems)


def _sample(item: dict[str, Any]) -> dict[str, Any]:
    readings = item.get("readings")
    if isinstance(readings, list) and len(readings) > MSREST_SAMPLE:
        return {**item, "readings": readings[:MSREST_SAMPLE]}
    return item


def validate_object(model: str, body: Any) -> None:
    """Validate one JSON object against `model` (e.g. ReadingImportRequest).

    Raises:
        BodyError: naming each problem with its JSON path.
    """
    problems = check_model(MODELS[model], body, "body") or msrest_problems(model, body)
    if problems:
        raise BodyError(problems)


def msrest_problems(model: str, body: Any) -> list[str]:
    """What msrest's own Deserializer and Model.validate() say about `body`."""
    try:
        result = _DESERIALIZE(model, body)
    except Exception as error:  # msrest raises DeserializationError and friends
        return [f"body: {error}"]
    items = result if isinstance(result, list) else [result]
    return [f"[{n}] {e}" for n, item in enumerate(items) for e in item.validate()]


def check_model(cls: type, data: Any, where: str) -> list[str]:
    """Strict check of one JSON object against an msrest model class."""
    name = cls.__name__
    if not isinstance(data, dict):
        return [f"{where}: expected a JSON object ({name}), got {_kind(data)}"]
    fields = _fields(cls)
    problems = [
        f"{where}: unknown field {key!r} for {name} (known: {', '.join(fields)})"
        for key in data
        if key not in fields
    ]
    for key, (kind, rules) in fields.items():
        value = data.get(key)
        if value is None:
            if rules.get("required"):
                problems.append(f"{where}.{key}: required field of {name} is missing")
            continue
        problems += check_value(kind, value, f"{where}.{key}", rules)
    return problems


@functools.cache
def _fields(cls: type) -> dict[str, tuple[str, dict[str, Any]]]:
    """A model's JSON keys → (msrest type, validation rules), made once per class."""
    return {
        d["key"]: (d["type"], cls._validation.get(attr, {}))  # type: ignore[attr-defined]
        for attr, d in cls._attribute_map.items()  # type: ignore[attr-defined]
    }


def check_value(kind: str, value: Any, where: str, rules: dict[str, Any]) -> list[str]:
    """Strict check of one JSON value against an msrest type name and its rules."""
    if kind.startswith("["):
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {_kind(value)}"]
        problems: list[str] = []
        for n, item in enumerate(value):
            problems += check_value(kind[1:-1], item, f"{where}[{n}]", {})
            if len(problems) >= MAX_ERRORS:
                break
        return problems
    if kind in MODELS:
        return check_model(MODELS[kind], value, where)
    problem = _scalar_problem(kind, value)
    if problem:
        return [f"{where}: {problem}"]
    return _rule_problems(value, where, rules)


def _scalar_problem(kind: str, value: Any) -> str | None:
    if kind in ("int", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"expected an integer, got {_kind(value)} {value!r}"
    if kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and math.isfinite(value):
            return None
        return f"expected a finite number, got {_kind(value)} {value!r}"
    if kind == "bool":
        return None if isinstance(value, bool) else f"expected true/false, got {value!r}"
    if kind == "str":
        return None if isinstance(value, str) else f"expected a string, got {_kind(value)}"
    if kind == "iso-8601":
        if not isinstance(value, str):
            return f"expected an ISO-8601 string, got {_kind(value)}"
        try:
            parse_time(value)
        except ValueError as error:
            return str(error)
    return None


def _rule_problems(value: Any, where: str, rules: dict[str, Any]) -> list[str]:
    problems = []
    if "max_length" in rules and len(value) > rules["max_length"]:
        problems.append(f"{where}: {len(value)} characters, at most {rules['max_length']} allowed")
    if "min_length" in rules and len(value) < rules["min_length"]:
        problems.append(f"{where}: at least {rules['min_length']} characters required")
    if "minimum" in rules and value < rules["minimum"]:
        problems.append(f"{where}: {value} is below the minimum {rules['minimum']}")
    if "maximum" in rules and value > rules["maximum"]:
        problems.append(f"{where}: {value} is above the maximum {rules['maximum']}")
    return problems


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number"
    )
