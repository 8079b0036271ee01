"""The mapping table: source id (+ quantity) to an EnergyCAP channel.

Mapping file (CSV with a header row):
    source_id           required; the connector's source key
    label               optional; what the channel is called (a site name), for people
    quantity            optional; the row applies only to readings of this quantity
    channel_import_id | meter_import_id | channel_id   at most one of them per row;
                        a row with none (a site name only, a multiplier) sends
                        its readings to the default target below
    observation_type    optional; else the default code for the quantity
    unit                optional; else the default unit for the quantity
    multiplier          optional; the value is multiplied by it (CT ratios, Wh→kWh)
    register            optional; ``difference`` (default): cumulative register
                        values become interval use; ``raw``: the source's register
                        values are sent as they are (quantity ``kWh-register``)

Unmapped readings go to `meterImportId = source_id` with the default codes.
A row naming a quantity wins over a row for the same source without one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from app.core import string_codes
from connectors.push.registers import base_quantity, is_register, register_quantity

TARGET_COLUMNS: tuple[str, ...] = (
    "channel_id",
    "channel_import_id",
    "meter_import_id",
    "observation_type",
    "unit_code",
    "mapped",
)

ID_COLUMNS: tuple[str, ...] = ("channel_import_id", "meter_import_id", "channel_id")
MAPPING_HEADER: tuple[str, ...] = (
    "source_id",
    "label",
    "quantity",
    "channel_import_id",
    "meter_import_id",
    "channel_id",
    "observation_type",
    "unit",
    "multiplier",
    "register",
)
REGISTER_MODES: tuple[str, ...] = ("difference", "raw")


@dataclass(frozen=True)
class Codes:
    """An EnergyCAP observation type code and unit code."""

    observation_type: str
    unit: str


def default_code_table() -> dict[str, Codes]:
    """The shipped defaults: kWh → Use/kWh, kW → Demand/kW (settings can change them)."""
    return {
        "kWh": Codes("Use", "kWh"),
        "kW": Codes("Demand", "kW"),
        "kVArh": Codes("ReactiveUse", "kVARh"),
        "kVAr": Codes("ReactiveDemand", "kVAR"),
    }


@dataclass(frozen=True)
class MappingRow:
    """One line of the mapping file."""

    source_id: str
    quantity: str | None = None
    channel_import_id: str | None = None
    meter_import_id: str | None = None
    channel_id: int | None = None
    observation_type: str | None = None
    unit: str | None = None
    multiplier: float = 1.0
    register: str = "difference"
    label: str | None = None  # the site name the file gave (shown beside the source id)


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names file, line and column."""


@dataclass
class MappingTable:
    """Rows of the mapping plus the default codes per quantity."""

    rows: list[MappingRow] = field(default_factory=list)
    defaults: dict[str, Codes] = field(default_factory=default_code_table)

    def codes_for(self, quantity: str, unit: str | None = None) -> Codes:
        """Default codes for a quantity; unknown quantities keep their own names.

        A raw register quantity (``kWh-register``) without a default of its own
        keeps its name as observation type and takes the unit code of its base
        quantity (``kWh``); settings may give it the tenant's codes.
        """
        found = self.defaults.get(quantity)
        if found is not None:
            return found
        if is_register(quantity):  # raw register values: the base quantity's unit code
            base = self.defaults.get(base_quantity(quantity))
            return Codes(quantity, base.unit if base else base_quantity(quantity))
        return Codes(quantity, unit or quantity)

    def to_csv(self) -> str:
        """The table as a mapping CSV (round-trips through `parse_mapping_csv`)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(MAPPING_HEADER)
        for r in self.rows:
            writer.writerow(
                [
                    r.source_id,
                    r.label or "",
                    r.quantity or "",
                    r.channel_import_id or "",
                    r.meter_import_id or "",
                    "" if r.channel_id is None else r.channel_id,
                    r.observation_type or "",
                    r.unit or "",
                    "" if r.multiplier == 1.0 else repr(r.multiplier),
                    "" if r.register == "difference" else r.register,
                ]
            )
        return out.getvalue()

    def raw_sources(self) -> frozenset[str]:
        """Source ids whose register values are sent raw (rows with ``register=raw``)."""
        return frozenset(r.source_id for r in self.rows if r.register == "raw")

    def labels(self) -> dict[str, str]:
        """Source id -> the label its rows give (the first row with one)."""
        found: dict[str, str] = {}
        for row in self.rows:
            if row.label:
                found.setdefault(row.source_id, row.label)
        return found


def load_mapping(path: str | Path, defaults: dict[str, Codes] | None = None) -> MappingTable:
    """Read a mapping CSV file.

    Raises:
        MappingError: naming the file, line, column and value that is wrong.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise MappingError(f"{p}: cannot read mapping file ({exc.strerror})") from exc
    return parse_mapping_csv(text, str(p), defaults)


def parse_mapping_csv(
    text: str, name: str = "mapping", defaults: dict[str, Codes] | None = None
) -> MappingTable:
    """Parse mapping CSV text (see the module docstring for the columns)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    if "source_id" not in header:
        raise MappingError(f"{name}:1: the header must have a source_id column; it has {header}")
    if not any(c in header for c in ID_COLUMNS):
        raise MappingError(f"{name}:1: the header needs one of {', '.join(ID_COLUMNS)}")
    rows = [_parse_row(rec, name, reader.line_num) for rec in reader if _has_content(rec)]
    return MappingTable(rows=rows, defaults=defaults or default_code_table())


def _has_content(record: dict[str, str | None]) -> bool:
    return any((v or "").strip() for v in record.values() if isinstance(v, str))


def _cell(record: dict[str, str | None], key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _parse_row(record: dict[str, str | None], name: str, line: int) -> MappingRow:
    source_id = _cell(record, "source_id")
    if source_id is None:
        raise MappingError(f"{name}:{line}: column source_id is empty")
    ids = {k: _cell(record, k) for k in ID_COLUMNS}
    given = [k for k, v in ids.items() if v is not None]
    if len(given) > 1:  # none: the readings go to the default target
        raise MappingError(
            f"{name}:{line}: source {source_id!r} needs at most one of "
            f"{', '.join(ID_COLUMNS)}; it has {given}"
        )
    return MappingRow(
        source_id=source_id,
        quantity=_cell(record, "quantity"),
        channel_import_id=ids["channel_import_id"],
        meter_import_id=ids["meter_import_id"],
        channel_id=_int_cell(ids["channel_id"], name, line, "channel_id"),
        observation_type=_cell(record, "observation_type"),
        unit=_cell(record, "unit"),
        multiplier=_float_cell(_cell(record, "multiplier"), name, line),
        register=_register_cell(_cell(record, "register"), name, line),
        label=_cell(record, "label"),
    )


def _register_cell(value: str | None, name: str, line: int) -> str:
    if value is None:
        return "difference"
    mode = value.lower()
    if mode not in REGISTER_MODES:
        raise MappingError(
            f"{name}:{line}: column register: {value!r} is not one of {', '.join(REGISTER_MODES)}"
        )
    return mode


def _int_cell(value: str | None, name: str, line: int, column: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise MappingError(
            f"{name}:{line}: column {column}: {value!r} is not a whole number"
        ) from None


def _float_cell(value: str | None, name: str, line: int) -> float:
    if value is None:
        return 1.0
    try:
        result = float(value)
    except ValueError:
        raise MappingError(f"{name}:{line}: column multiplier: {value!r} is not a number") from None
    if not np.isfinite(result):
        raise MappingError(f"{name}:{line}: column multiplier: {value!r} is not a finite number")
    return result


def hint_rows(hints: Any) -> list[MappingRow]:
    """Mapping rows from a connector's `mapping_hint` (dicts shaped like MappingRow).

    Connectors that know the EnergyCAP identity of their readings (a Readings
    API body names channelImportId, channelId ...) pass it this way; malformed
    hints are ignored.
    """
    rows = []
    field_names = set(MappingRow.__dataclass_fields__)
    for hint in hints if isinstance(hints, list) else []:
        if isinstance(hint, dict) and hint.get("source_id"):
            try:
                rows.append(MappingRow(**{k: v for k, v in hint.items() if k in field_names}))
            except TypeError:
                continue
    return rows


def with_hints(table: MappingTable, hints: list[MappingRow]) -> MappingTable:
    """The user's table plus hint rows for sources the user's table does not name."""
    named = {r.source_id for r in table.rows}
    extra = [h for h in hints if h.source_id not in named]
    if not extra:
        return table
    return MappingTable(rows=[*table.rows, *extra], defaults=table.defaults)


def apply_mapping(readings: pd.DataFrame, table: MappingTable) -> pd.DataFrame:
    """Add EnergyCAP target columns to readings and apply multipliers.

    Adds `channel_id` (nullable Int64), `channel_import_id`, `meter_import_id`,
    `observation_type`, `unit_code` and `mapped` (bool). Exactly one of the
    three id columns is set on every row. The mapping is resolved once per
    distinct (source, quantity, unit) and spread by position, so a batch of
    millions of readings costs a few array takes (none when a target column is
    one value, or is the source id itself as for unmapped sources).
    """
    out = readings.reset_index(drop=True)
    codes, combos = _combinations(out)
    by_source: dict[str, list[MappingRow]] = {}
    for row in table.rows:  # each combination looks among its source's rows only
        by_source.setdefault(row.source_id, []).append(row)
    targets = [_target(table, by_source, *combo) for combo in combos]
    added: dict[str, Any] = {
        "channel_id": pd.array([t[0] for t in targets], dtype="Int64").take(codes)
    }
    for number, name in enumerate(TARGET_COLUMNS[1:5], start=1):
        values = [t[number] for t in targets]
        if name == "meter_import_id" and values == [_text(c[0]) or "" for c in combos]:
            added[name] = out["source_id"].astype("string").array  # unmapped: the source id
        else:
            added[name] = _spread(values, codes)
    multipliers = np.array([t[5] for t in targets], dtype="float64")
    value = out["value"].to_numpy(dtype="float64")
    if not bool((multipliers == 1.0).all()):
        with np.errstate(over="ignore"):  # an overflow is inf: delivery dead-letters that one
            added["value"] = value * multipliers[codes]
    elif out["value"].dtype != np.float64:
        added["value"] = value
    added["mapped"] = np.array([t[6] for t in targets], dtype="bool")[codes]
    return _with_columns(out, added)


def _with_columns(frame: pd.DataFrame, added: dict[str, Any]) -> pd.DataFrame:
    """`frame` with the columns `added` (replaced in place, new ones at the end), built
    as one frame (not a column insertion each)."""
    columns = {name: frame[name] for name in frame.columns}  # Series: copied on write
    columns.update(added)
    return pd.DataFrame(columns, index=frame.index, copy=False)


def _spread(values: list[Any], codes: np.ndarray[Any, Any]) -> Any:
    """A string column: values[code] for each row (one Arrow repeat when all are equal)."""
    if len(set(values)) == 1:
        scalar = pa.scalar(values[0], pa.string())
        return pd.arrays.ArrowStringArray(pa.repeat(scalar, len(codes)))
    return pd.array(values, dtype="string").take(codes)


def _combinations(readings: pd.DataFrame) -> tuple[Any, list[tuple[Any, Any, Any]]]:
    """Codes of each row's (source_id, quantity, unit) and the distinct combinations."""
    if not len(readings):
        return np.zeros(0, dtype="int64"), []
    combined = np.zeros(len(readings), dtype="int64")
    for column in ("source_id", "quantity", "unit"):
        part_codes, count = string_codes.codes(readings[column])
        combined = combined * (count + 1) + part_codes
    codes, uniques = pd.factorize(combined)
    first_rows = np.empty(len(uniques), dtype="int64")
    first_rows[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the first row of each
    picked = (readings[c].iloc[first_rows].tolist() for c in ("source_id", "quantity", "unit"))
    combos = list(zip(*picked, strict=True))
    return codes, combos


def _text(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _find_row(rows: list[MappingRow], quantity: str | None) -> MappingRow | None:
    """The row of a source's `rows` for a quantity: one naming it wins over one without."""
    loose = None
    for row in rows:
        if row.quantity is not None and _quantity_matches(row, quantity):
            return row
        if row.quantity is None and loose is None:
            loose = row
    return loose


def _quantity_matches(row: MappingRow, quantity: str | None) -> bool:
    """A row's quantity matches; a raw row for ``kWh`` also matches its ``kWh-register`` values."""
    if row.quantity == quantity:
        return True
    return row.register == "raw" and register_quantity(row.quantity or "") == quantity


def _target(
    table: MappingTable,
    by_source: dict[str, list[MappingRow]],
    source: Any,
    quantity: Any,
    unit: Any,
) -> tuple[Any, ...]:
    """(channel_id, channel_import_id, meter_import_id, obs, unit_code, multiplier, mapped)."""
    source_id, qty = _text(source) or "", _text(quantity)
    row = _find_row(by_source.get(source_id, []), qty)
    defaults = table.codes_for(qty or "", _text(unit))
    if row is None:
        return (None, None, source_id, defaults.observation_type, defaults.unit, 1.0, False)
    no_id = row.channel_id is None and row.channel_import_id is None and row.meter_import_id is None
    return (
        row.channel_id,
        row.channel_import_id,
        source_id if no_id else row.meter_import_id,
        row.observation_type or defaults.observation_type,
        row.unit or defaults.unit,
        row.multiplier,
        not no_id,  # a row without a target (a site name only) leaves the source unmapped
    )
