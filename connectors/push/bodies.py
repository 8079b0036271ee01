"""Push bodies as JSON or CSV, refused by name when they are neither (no NaN literals).

Shared by the push readers (`connectors.push.common` re-exports these names).
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import orjson

from connectors.base import SourceError

_NON_FINITE = re.compile(r"(?<![\w\"])(-?Infinity|NaN)(?![\w\"])")
_DIGITS_AS_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))  # b"0" for a digit
_LONG_RUN = b"0" * 19  # an integer this long may be beyond 64 bits: orjson reads it as a float


def long_digit_run(text: str) -> bool:
    """Whether `text` has 19 digits in a row (found in C: a regex takes 15 times longer)."""
    return _LONG_RUN in text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO)


def loads_json(text: str) -> Any:
    """`json.loads(text)`, by orjson (about 4x faster) where both read a text alike.

    orjson reads integers beyond 64 bits as floats and refuses what the json
    module reads (NaN, 1e400, lone surrogates): a text with 19 digits in a row,
    or one orjson refuses, is read by the json module, which also names the
    error as before.

    Raises:
        json.JSONDecodeError: as `json.loads`.
    """
    read = _by_orjson(text)
    return read[0] if read else json.loads(text)


def _by_orjson(text: str) -> tuple[Any] | None:
    """`(document,)` when orjson reads `text` as the json module would, else None."""
    if long_digit_run(text):
        return None
    try:
        return (orjson.loads(text),)
    except orjson.JSONDecodeError:
        return None  # the json module names the error (or reads NaN, 1e400)


def load_json(text: str, name: str) -> Any:
    """A JSON document; the literals NaN and Infinity (not JSON) are refused by position.

    Raises:
        SourceError: for text that is not JSON, naming line and column
            (`NotANumberLiteral` for a NaN/Infinity literal, naming its field).
    """
    read = _by_orjson(text)  # the json module's reading, faster (see `loads_json`)
    if read:
        return read[0]
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", file=name
        ) from None
    except _NonFinite as exc:
        match = _NON_FINITE.search(text)
        where = ""
        if match is not None:
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            before = text[max(0, match.start() - 200) : match.start()]
            key = re.findall(r'"([^"]+)"\s*:\s*$', before)
            field = f" (field {key[-1]!r})" if key else ""
            where = f" at line {line} column {column}{field}"
        raise NotANumberLiteral(
            f"JSON literal {exc}{where} is not a number; send null for a missing value",
            file=name,
        ) from None


class NotANumberLiteral(SourceError):
    """A body with a NaN/Infinity literal: not JSON, refused (never held) by the listener."""


class _NonFinite(ValueError):
    """A NaN/Infinity literal in a JSON body."""


def _refuse_constant(literal: str) -> Any:
    raise _NonFinite(literal)


def csv_rows(text: str, name: str, delimiter: str = ",") -> list[list[str]]:
    """The rows of a CSV body (any line ends; NUL bytes and bad quoting refused by name).

    Raises:
        SourceError: when the text cannot be split into CSV rows.
    """
    if is_plain_csv(text):  # what the csv module would do, by str.split (3x faster)
        return [line.split(delimiter) if line else [] for line in text.splitlines()]
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise SourceError(f"not a readable CSV body: {exc}", file=name) from None


_NOT_PLAIN = ('"', "\x00", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")


def is_plain_csv(text: str) -> bool:
    """Whether `text` splits into CSV rows at its line ends and delimiters alone.

    ASCII without quotes (nothing quoted, so no delimiter or line end inside a
    cell), NUL (which the csv module refuses) or the characters `str.splitlines`
    breaks at but the csv module does not; shorter than the csv module's field
    limit (a longer field it refuses).
    """
    return (
        len(text) < _CSV_FIELD_LIMIT
        and text.isascii()
        and not any(character in text for character in _NOT_PLAIN)
    )


_CSV_FIELD_LIMIT = csv.field_size_limit()
