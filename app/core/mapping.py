"""The mapping table: source id (+ quantity) to an EnergyCAP channel.

Mapping file (CSV with a header row):
    source_id           required; the connector's source key
    quantity            optional; the row applies only to readings of this quantity
    channel_import_id | meter_import_id | channel_id   one of them per row
    observation_type    optional; else the default code for the quantity
    unit                optional; else the default unit for the quantity
    multiplier          optional; the value is multiplied by it (CT ratios, Wh→kWh)

Unmapped readings go to `meterImportId = source_id` with the default codes.
A row naming a quantity wins over a row for the same source without one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

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
    "quantity",
    "channel_import_id",
    "meter_import_id",
    "channel_id",
    "observation_type",
    "unit",
    "multiplier",
)


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


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names file, line and column."""


@dataclass
class MappingTable:
    """Rows of the mapping plus the default codes per quantity."""

    rows: list[MappingRow] = field(default_factory=list)
    defaults: dict[str, Codes] = field(default_factory=default_code_table)

    def codes_for(self, quantity: str, unit: str | None = None) -> Codes:
        """Default codes for a quantity; unknown quantities keep their own names."""
        found = self.defaults.get(quantity)
        return found if found is not None else Codes(quantity, unit or quantity)

    def to_csv(self) -> str:
        """The table as a mapping CSV (round-trips through `parse_mapping_csv`)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(MAPPING_HEADER)
        for r in self.rows:
            writer.writerow(
                [
                    r.source_id,
                    r.quantity or "",
                    r.channel_import_id or "",
                    r.meter_import_id or "",
                    "" if r.channel_id is None else r.channel_id,
                    r.observation_type or "",
                    r.unit or "",
                    "" if r.multiplier == 1.0 else repr(r.multiplier),
                ]
            )
        return out.getvalue()


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
    if len(given) != 1:
        raise MappingError(
            f"{name}:{line}: source {source_id!r} needs exactly one of "
            f"{', '.join(ID_COLUMNS)}; it has {given or 'none'}"
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
    )


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


def apply_mapping(readings: pd.DataFrame, table: MappingTable) -> pd.DataFrame:
    """Add EnergyCAP target columns to readings and apply multipliers.

    Adds `channel_id` (nullable Int64), `channel_import_id`, `meter_import_id`,
    `observation_type`, `unit_code` and `mapped` (bool). Exactly one of the
    three id columns is set on every row.
    """
    out = readings.reset_index(drop=True)
    frame = _rows_frame(table)
    keys = pd.DataFrame({"source_id": out["source_id"], "quantity": out["quantity"]})
    exact = keys.merge(frame[frame["quantity"].notna()], on=["source_id", "quantity"], how="left")
    loose = keys[["source_id"]].merge(
        frame[frame["quantity"].isna()].drop(columns="quantity"), on="source_id", how="left"
    )
    chosen = exact.drop(columns="quantity").where(exact["row"].notna(), loose, axis=0)
    mapped = chosen["row"].notna().to_numpy()
    defaults = _default_codes(out, table)
    out["channel_id"] = pd.array(chosen["channel_id"], dtype="Int64")
    out["channel_import_id"] = chosen["channel_import_id"].astype("string")
    meter = chosen["meter_import_id"].astype("string")
    no_id = out["channel_id"].isna() & out["channel_import_id"].isna() & meter.isna()
    out["meter_import_id"] = meter.where(~no_id, out["source_id"]).astype("string")
    obs = chosen["observation_type"].astype("string")
    unit = chosen["unit"].astype("string")
    out["observation_type"] = obs.fillna(defaults["observation_type"]).astype("string")
    out["unit_code"] = unit.fillna(defaults["unit_code"]).astype("string")
    out["value"] = out["value"] * chosen["multiplier"].fillna(1.0).to_numpy(dtype="float64")
    out["mapped"] = mapped
    return out


def _rows_frame(table: MappingTable) -> pd.DataFrame:
    columns = {
        "source_id": [r.source_id for r in table.rows],
        "quantity": [r.quantity for r in table.rows],
        "channel_id": pd.array([r.channel_id for r in table.rows], dtype="Int64"),
        "channel_import_id": [r.channel_import_id for r in table.rows],
        "meter_import_id": [r.meter_import_id for r in table.rows],
        "observation_type": [r.observation_type for r in table.rows],
        "unit": [r.unit for r in table.rows],
        "multiplier": np.array([r.multiplier for r in table.rows], dtype="float64"),
        "row": np.arange(len(table.rows), dtype="float64"),
    }
    frame = pd.DataFrame(columns)
    for name in ("source_id", "quantity", "channel_import_id", "meter_import_id"):
        frame[name] = frame[name].astype("string")
    for name in ("observation_type", "unit"):
        frame[name] = frame[name].astype("string")
    return frame.drop_duplicates(subset=["source_id", "quantity"], keep="first")


def _default_codes(readings: pd.DataFrame, table: MappingTable) -> pd.DataFrame:
    pairs = readings[["quantity", "unit"]].drop_duplicates()
    rows = []
    for quantity, unit in pairs.itertuples(index=False):
        codes = table.codes_for(str(quantity), None if pd.isna(unit) else str(unit))
        rows.append((quantity, unit, codes.observation_type, codes.unit))
    lookup = pd.DataFrame(rows, columns=["quantity", "unit", "observation_type", "unit_code"])
    lookup = lookup.astype("string")
    merged = readings[["quantity", "unit"]].merge(lookup, on=["quantity", "unit"], how="left")
    return merged[["observation_type", "unit_code"]].reset_index(drop=True)
