"""Declarative UK half-hourly layouts (data files) and matching them to a header.

A layout is a TOML file in `connectors/tabular/layouts/`: which header labels name the
meter, the date, the units and flags, which labels are half-hour value columns
(regular expressions with named groups `h`/`m` for clock labels or `n` for
numbered periods), how flags pair with values and, optionally, which column names
the site (`channel_label`: kept as the channel's label, never guessed). `match_header`
turns a header row into a `Plan`: the column positions the engine reads, with a score.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

LabelKind = Literal["auto", "end", "start", "number"]

DEFAULT_UNITS: dict[str, str] = {
    "KWH": "kWh",
    "KVARH": "kVArh",
    "LAG": "kVArh",
    "LEAD": "kVArh",
    "KVAH": "kVAh",
    "KW": "kW",
}
# Reactive LEAD rows get their own source id so they map to their own channel.
SOURCE_SUFFIX: dict[str, str] = {"LEAD": ":LEAD"}


@dataclass(frozen=True)
class ValueSpec:
    """A family of value columns: label regex, how labels count, their quantity."""

    regex: re.Pattern[str]
    label: LabelKind
    quantity: str


@dataclass(frozen=True)
class FlagSpec:
    """Per-value flag columns and how each pairs with its value column."""

    regex: re.Pattern[str]
    pair: Literal["label", "next", "block"]


@dataclass(frozen=True)
class Layout:
    """One vendor's file layout, loaded from a TOML data file."""

    name: str
    title: str
    shape: Literal["wide", "long", "headerless"]
    id: tuple[str, ...]
    date: tuple[str, ...]
    values: tuple[ValueSpec, ...]
    signature: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    row_flag: tuple[str, ...] = ()
    flags: tuple[FlagSpec, ...] = ()
    time_basis: Literal["local", "utc"] = "local"
    long_label: Literal["end", "start"] = "end"
    long_value: tuple[str, ...] = ()
    long_flag: tuple[str, ...] = ()
    row_date: re.Pattern[str] | None = None  # headerless: what the date cell looks like
    row_label: LabelKind = "start"  # headerless: how the value columns count
    units_map: tuple[tuple[str, str], ...] = ()  # extra units-cell words -> quantity
    source_suffix: tuple[tuple[str, str], ...] = ()  # units-cell words -> source id suffix
    channel_label: tuple[str, ...] = ()  # header of a column naming the site (kept as label)


@dataclass(frozen=True)
class ValueColumn:
    """One value column of a wide file: its position, label, slot and quantity."""

    index: int
    label: str
    slot: int
    quantity: str
    flag_index: int | None = None


@dataclass
class Plan:
    """How to read a file: the layout, the header and the columns that matter."""

    layout: Layout
    score: float
    labels: list[str]
    id_index: int
    date_index: int
    basis: Literal["clock", "period"] = "clock"
    values: list[ValueColumn] = field(default_factory=list)
    units_index: int | None = None
    row_flag_index: int | None = None
    utc: bool = False
    value_index: int | None = None  # long shape: the value column
    long_flag_index: int | None = None
    label_index: int | None = None  # the column the layout declares as the channel label

    @property
    def slots(self) -> int:
        """48 for clock labels; the number of period columns (48 or 50) otherwise."""
        return 48 if self.basis == "clock" else max(v.slot for v in self.values) + 1


def _tuple(data: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(v) for v in data.get(key, ()))


def parse_layout(data: dict[str, Any]) -> Layout:
    """Build a Layout from the parsed content of a layout file."""
    values = tuple(
        ValueSpec(re.compile(v["regex"], re.I), v.get("label", "auto"), v.get("quantity", "kWh"))
        for v in data.get("values", ())
    )
    flags = data.get("flags") or []
    flags = [flags] if isinstance(flags, dict) else flags
    return Layout(
        name=data["name"],
        title=data.get("title", data["name"]),
        shape=data.get("shape", "wide"),
        id=_tuple(data, "id"),
        date=_tuple(data, "date"),
        values=values,
        signature=_tuple(data, "signature"),
        units=_tuple(data, "units"),
        row_flag=_tuple(data, "row_flag"),
        flags=tuple(FlagSpec(re.compile(f["regex"], re.I), f["pair"]) for f in flags),
        time_basis=data.get("time_basis", "local"),
        long_label=data.get("long_label", "end"),
        long_value=_tuple(data, "long_value"),
        long_flag=_tuple(data, "long_flag"),
        row_date=re.compile(data["row_date"]) if data.get("row_date") else None,
        row_label=data.get("row_label", "start"),
        units_map=tuple((str(k).upper(), str(v)) for k, v in data.get("units_map", {}).items()),
        source_suffix=tuple(
            (str(k).upper(), str(v)) for k, v in data.get("source_suffix", {}).items()
        ),
        channel_label=_tuple(data, "channel_label"),
    )


@cache
def builtin_layouts() -> tuple[Layout, ...]:
    """Every layout shipped in connectors/tabular/layouts (*.toml), by name."""
    folder = resources.files("connectors.tabular.layouts")
    found = [
        parse_layout(tomllib.loads(item.read_text(encoding="utf-8")))
        for item in folder.iterdir()
        if item.name.endswith(".toml")
    ]
    return tuple(sorted(found, key=lambda layout: layout.name))


def layout_by_name(name: str) -> Layout:
    """The shipped layout called `name`.

    Raises:
        KeyError: naming the known layouts.
    """
    for layout in builtin_layouts():
        if layout.name == name:
            return layout
    names = ", ".join(layout.name for layout in builtin_layouts())
    raise KeyError(f"unknown layout {name!r}; known layouts: {names}")


def units_of(layout: Layout) -> tuple[dict[str, str], dict[str, str]]:
    """(units-cell word -> quantity, word -> source id suffix) of a layout, defaults included."""
    return DEFAULT_UNITS | dict(layout.units_map), SOURCE_SUFFIX | dict(layout.source_suffix)


def norm(label: str) -> str:
    """A header label compared case- and space-insensitively."""
    return " ".join(label.replace("\ufeff", "").strip().strip('"').split()).lower()


def _find(labels: list[str], names: tuple[str, ...]) -> int | None:
    wanted = [norm(n) for n in names]
    normed = [norm(label) for label in labels]
    for name in wanted:
        if name in normed:
            return normed.index(name)
    return None


def clock_minutes(match: re.Match[str]) -> int:
    """Minutes after midnight of a clock label match (groups h, m, optional ampm)."""
    hours, minutes = int(match.group("h")), int(match.group("m"))
    ampm = match.groupdict().get("ampm")
    if ampm:
        hours = hours % 12 + (12 if ampm.lower() == "pm" else 0)
    return hours * 60 + minutes


def match_long(labels: list[str], layout: Layout) -> Plan | None:
    """The plan of a row-per-reading file, or None when the header does not fit."""
    id_index, time_index = _find(labels, layout.id), _find(labels, layout.date)
    value_index = _find(labels, layout.long_value)
    if id_index is None or time_index is None or value_index is None:
        return None
    plan = Plan(layout, 0.0, labels, id_index, time_index, "clock")
    plan.value_index = value_index
    plan.long_flag_index = _find(labels, layout.long_flag)
    plan.units_index = _find(labels, layout.units)
    plan.label_index = _find(labels, layout.channel_label)
    plan.utc = layout.time_basis == "utc" or "utc" in labels[time_index].lower()
    plan.score = score_plan(plan, layout)
    return plan


def match_header(labels: list[str], layout: Layout) -> Plan | None:
    """The plan for reading a file with this header by `layout`, or None if it does not fit."""
    if layout.shape == "headerless":
        return None  # recognised from the shape of its rows (connectors.tabular.rows)
    if layout.shape == "long":
        return match_long(labels, layout)
    id_index, date_index = _find(labels, layout.id), _find(labels, layout.date)
    if id_index is None or date_index is None:
        return None
    found = _value_columns(labels, layout)
    if found is None:
        return None
    basis, values = found
    plan = Plan(layout, 0.0, labels, id_index, date_index, basis, values)
    plan.units_index = _find(labels, layout.units)
    plan.row_flag_index = _find(labels, layout.row_flag)
    plan.label_index = _find(labels, layout.channel_label)
    plan.utc = layout.time_basis == "utc" or "utc" in norm(labels[date_index])
    if not _pair_any(plan, layout.flags):
        return None
    plan.score = score_plan(plan, layout)
    return plan


def score_plan(plan: Plan, layout: Layout) -> float:
    """Confidence in [0, 1]: 0.5 for a readable structure, the rest for the signature."""
    normed = {norm(label) for label in plan.labels}
    wanted = [norm(s) for s in layout.signature]
    hits = sum(1 for s in wanted if s in normed) / len(wanted) if wanted else 0.0
    has_flags = any(v.flag_index is not None for v in plan.values)
    flags = 0.1 if has_flags or plan.row_flag_index is not None else 0.0
    return round(min(1.0, 0.5 + 0.35 * hits + flags + 0.05 * (plan.units_index is not None)), 3)


def _value_columns(
    labels: list[str], layout: Layout
) -> tuple[Literal["clock", "period"], list[ValueColumn]] | None:
    raw: list[tuple[int, str, int, ValueSpec]] = []
    for index, label in enumerate(labels):
        text = label.replace("\ufeff", "").strip().strip('"').strip()
        for spec in layout.values:
            match = spec.regex.match(text)
            if match:
                number = match.groupdict().get("n")
                key = int(number) if number is not None else clock_minutes(match)
                raw.append((index, text, key, spec))
                break
    if not raw:
        return None
    if "n" in raw[0][3].regex.groupindex:
        return _numbered(raw, layout)
    return _clocked(raw)


def _numbered(
    raw: list[tuple[int, str, int, ValueSpec]], layout: Layout
) -> tuple[Literal["period"], list[ValueColumn]] | None:
    seen: set[tuple[str, int]] = set()
    values: list[ValueColumn] = []
    for index, label, number, spec in raw:
        if (spec.quantity, number) in seen:
            if any(spec.pair == "block" for spec in layout.flags):
                continue  # a repeated block of the same labels holds the statuses
            return None
        seen.add((spec.quantity, number))
        values.append(ValueColumn(index, label, number - 1, spec.quantity))
    per_quantity = {q for q, _ in seen}
    counts = {sum(1 for q, _ in seen if q == quantity) for quantity in per_quantity}
    if not counts <= {46, 48, 50} or min(v.slot for v in values) != 0:
        return None
    return "period", values


def _clocked(
    raw: list[tuple[int, str, int, ValueSpec]],
) -> tuple[Literal["clock"], list[ValueColumn]] | None:
    minutes = [m for _, _, m, _ in raw]
    kind = raw[0][3].label
    if kind == "auto":
        kind = "end" if 1440 in minutes or min(minutes) == 30 or minutes[0] == 30 else "start"
    if kind == "end":
        minutes = [1440 if m == 0 else m for m in minutes]
        slots = [m // 30 - 1 for m in minutes]
    else:
        slots = [m // 30 for m in minutes]
    if len(set(slots)) != len(slots) or sorted(slots) != list(range(48)):
        return None
    if any(m % 30 for m in minutes):
        return None
    values = [
        ValueColumn(index, label, slot, spec.quantity)
        for (index, label, _, spec), slot in zip(raw, slots, strict=True)
    ]
    return "clock", values


def _pair_any(plan: Plan, specs: tuple[FlagSpec, ...]) -> bool:
    """Pair flags by the first spec that finds flag columns; False when flags do not fit."""
    for spec in specs:
        if not _pair_flags(plan, spec):
            return False
        if any(v.flag_index is not None for v in plan.values):
            break
    return True


def _pair_flags(plan: Plan, spec: FlagSpec) -> bool:
    """Attach each value column's flag column; False when the flags do not fit."""
    flag_cols = [
        (i, label)
        for i, label in enumerate(plan.labels)
        if spec.regex.match(label.strip().strip('"')) and i not in {v.index for v in plan.values}
    ]
    if not flag_cols:
        return True  # the layout allows files without flag columns
    if spec.pair == "next":
        by_index = {i for i, _ in flag_cols}
        plan.values = [
            _with_flag(v, v.index + 1 if v.index + 1 in by_index else None) for v in plan.values
        ]
    elif spec.pair == "block":
        if len(flag_cols) != len(plan.values):
            return False
        ordered = sorted(plan.values, key=lambda v: v.index)
        plan.values = [_with_flag(v, i) for v, (i, _) in zip(ordered, flag_cols, strict=True)]
    else:
        keyed = {_flag_key(label, spec): i for i, label in flag_cols}
        plan.values = [_with_flag(v, keyed.get(_value_key(v))) for v in plan.values]
    return True


def _flag_key(label: str, spec: FlagSpec) -> str:
    match = spec.regex.match(label.strip().strip('"'))
    assert match is not None
    groups = match.groupdict()
    if groups.get("n") is not None:
        return f"n{int(groups['n'])}"
    return f"m{clock_minutes(match)}"


def _value_key(value: ValueColumn) -> str:
    digits = re.findall(r"\d+", value.label)
    if ":" not in value.label and digits:
        return f"n{int(digits[-1])}"
    hours, minutes = value.label.strip("[]").split(":")[:2]
    return f"m{int(hours) * 60 + int(minutes[:2])}"


def _with_flag(value: ValueColumn, flag_index: int | None) -> ValueColumn:
    return ValueColumn(value.index, value.label, value.slot, value.quantity, flag_index)
