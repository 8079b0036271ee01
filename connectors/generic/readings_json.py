"""The Readings API JSON connector: relay a body shaped like `POST /api/v3/reading`.

The body (an array of ReadingCreate) is validated; every bad reading is named
by its JSON path and the rest come through. Readings keep their EnergyCAP
identity in two ways, because the reading schema has no identifier-kind
column:

* `quantity`/`unit` carry the codes: a default pair (Use/kWh, Demand/kW, ...)
  becomes its quantity (kWh, kW, ...); any other pair becomes
  quantity = observationTypeCode, unit = unitCode, which the default mapping
  turns back into exactly those codes.
* `batch.info["mapping_hint"]` lists one MappingRow-like dict per
  (source_id, quantity) with the identifier the body used (channel_id,
  channel_import_id or meter_import_id) and the codes; the pipeline applies
  them to sources the user's mapping does not name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from connectors.base import (
    ConnectorInfo,
    Problem,
    ProblemKind,
    ReadingBatch,
    Source,
    SourceError,
    conform,
    empty_readings,
)
from connectors.clock import place_local_times
from connectors.generic.cells import has_offset
from connectors.generic.readings_json_body import (
    Cells,
    Target,
    check_target,
    collect_readings,
    unwrap,
)
from connectors.generic.zone import check_zone

_ID_HINTS = (b'"channelimportid"', b'"meterimportid"', b'"channelid"')


class ReadingsJsonConnector:
    """Readings from a Readings API body (JSON array of ReadingCreate)."""

    info = ConnectorInfo(
        id="readings-json",
        name="Readings API JSON",
        description="A body shaped like EnergyCAP's POST /api/v3/reading, validated and relayed.",
        file_patterns=("*.json",),
    )

    def sniff(self, head: bytes, name: str) -> float:
        """0.9 for JSON naming readings and an EnergyCAP identifier, 0.5 for readings only."""
        body = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        if body[:1] not in (b"[", b"{"):
            return 0.0
        lower = body.lower()
        if b'"readings"' not in lower:
            return 0.0
        return 0.9 if any(h in lower for h in _ID_HINTS) else 0.5

    def read(self, source: Source, options: Mapping[str, Any]) -> Iterator[ReadingBatch]:
        """Yield one batch with the body's valid readings and a problem per invalid one.

        Raises:
            SourceError: when the content is not JSON or not shaped like a Readings API body.
        """
        file = source.label
        tz = check_zone(options.get("tz") or options.get("default_tz"), file)
        label = str(options.get("source_label") or "end")
        if label not in ("end", "start"):
            raise SourceError(f"source_label must be 'end' or 'start', not {label!r}", file=file)
        objects, prefix, form = unwrap(_load(source), file)
        targets, cells, problems = _validate(objects, prefix, file)
        readings, more = _readings(targets, cells, file, tz, label)
        hints, conflicts = _hints(targets, file)
        info = {
            "connector": "readings-json",
            "form": form,
            "objects": len(objects),
            "tz": tz,
            "source_label": label,
            "mapping_hint": hints,
        }
        yield ReadingBatch(readings=readings, problems=problems + more + conflicts, info=info)


def _load(source: Source) -> Any:
    raw = source.open().read() if source.path is None else source.path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"not UTF-8 text (byte {exc.start})", file=source.label, kind="encoding"
        ) from None
    try:
        return json.loads(text, parse_constant=_not_a_number)
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            file=source.label,
        ) from None
    except _Literal as exc:
        raise SourceError(_literal_message(text, str(exc)), file=source.label) from None


class _Literal(ValueError):
    """NaN, Infinity or -Infinity: accepted by Python's json, not JSON, not a number."""


def _not_a_number(literal: str) -> Any:
    raise _Literal(literal)


def _literal_message(text: str, literal: str) -> str:
    """Where the first NaN/Infinity literal is: line, column and the field it is the value of."""
    at = max(text.find(literal), 0)
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    keys = re.findall(r'"([^"]+)"\s*:\s*$', text[max(0, at - 200) : at])
    field = f" (field {keys[-1]!r})" if keys else ""
    return (
        f"JSON literal {literal} at line {line} column {column}{field} is not a number; "
        "send null or leave the reading out"
    )


def _validate(
    objects: list[Any], prefix: str, file: str
) -> tuple[dict[int, Target], Cells, list[Problem]]:
    targets: dict[int, Target] = {}
    cells = Cells()
    problems: list[Problem] = []
    for i, obj in enumerate(objects):
        path = f"{prefix}[{i}]"
        checked = check_target(obj, path, file)
        if isinstance(checked, Problem):
            problems.append(checked)
            continue
        targets[i] = checked
        problems += collect_readings(obj, i, path, file, cells)
    return targets, cells, problems


def _readings(
    targets: dict[int, Target], cells: Cells, file: str, tz: str | None, label: str
) -> tuple[pd.DataFrame, list[Problem]]:
    if not cells.time:
        return empty_readings(), []
    frame = pd.DataFrame(
        {
            "target": np.asarray(cells.target, dtype="int64"),
            "text": pd.Series(cells.time, dtype="str"),
            "value": np.asarray(cells.value, dtype="float64"),
            "estimated": np.asarray(cells.estimated, dtype=bool),
            "note": pd.Series(cells.note, dtype=object),
            "path": cells.path,
        }
    )
    utc, problems = _times(frame, file, tz)
    frame["time"] = utc
    keep = frame["time"].notna().to_numpy()
    if label == "start":
        seconds = frame["target"].map({n: t.interval_s for n, t in targets.items()})
        frame["time"] = frame["time"] + pd.to_timedelta(seconds, unit="s")
        problems += _no_interval(frame[keep], targets, file)
        keep = keep & (seconds > 0).to_numpy(dtype=bool)
    return _to_schema(frame[keep], targets, file), problems


def _times(frame: pd.DataFrame, file: str, tz: str | None) -> tuple[pd.Series, list[Problem]]:
    """UTC instants (NaT where unusable) and a problem per unusable time."""
    text = frame["text"]
    aware = has_offset(text)
    utc = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    utc[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
    wall = pd.to_datetime(text[~aware], format="ISO8601", errors="coerce")
    problems = [
        _time_problem(frame, i, file, "is not an ISO 8601 time")
        for i in np.flatnonzero(aware)[utc[aware].isna().to_numpy()]
    ]
    bad_wall = wall.isna().to_numpy()
    for i in np.flatnonzero(~aware)[bad_wall]:
        problems.append(_time_problem(frame, i, file, "is not an ISO 8601 time"))
    naive_rows = np.flatnonzero(~aware)[~bad_wall]
    if not len(naive_rows):
        return utc, problems
    if tz is None:
        msg = "has no UTC offset and no time zone was given (--tz)"
        return utc, problems + [_time_problem(frame, i, file, msg) for i in naive_rows]
    placed = place_local_times(frame["target"].iloc[naive_rows], wall[~bad_wall], tz)
    utc.iloc[naive_rows] = placed.utc.to_numpy()
    for i in naive_rows[placed.held]:
        msg = f"happens twice in {tz} (clock change) and the order cannot tell which; held back"
        problems.append(_time_problem(frame, i, file, msg, ProblemKind.HELD_BACK))
    for i in naive_rows[placed.nonexistent]:
        problems.append(_time_problem(frame, i, file, f"does not exist in {tz} (clock change)"))
    return utc, problems


def _time_problem(
    frame: pd.DataFrame, i: int, file: str, message: str, kind: ProblemKind = ProblemKind.BAD_VALUE
) -> Problem:
    path = f"{frame['path'].iloc[i]}.time"
    text = str(frame["text"].iloc[i])
    return Problem(kind, f"{path}: {text!r} {message}", file)


def _no_interval(frame: pd.DataFrame, targets: dict[int, Target], file: str) -> list[Problem]:
    found = []
    for number in sorted(set(frame["target"])):
        target = targets[number]
        if target.interval_s <= 0:
            count = int((frame["target"] == number).sum())
            msg = (
                f"{target.path}: times mark interval starts but channelIntervalInSeconds is "
                "missing, so the readings' ends are unknown; held back"
            )
            found.append(
                Problem(ProblemKind.HELD_BACK, msg, file, source_id=target.source_id, count=count)
            )  # fmt: skip
    return found


def _to_schema(frame: pd.DataFrame, targets: dict[int, Target], file: str) -> pd.DataFrame:
    numbers = frame["target"]
    per = {
        "source_id": {n: t.source_id for n, t in targets.items()},
        "quantity": {n: t.quantity for n, t in targets.items()},
        "unit": {n: t.unit or t.quantity for n, t in targets.items()},
        "interval_s": {n: t.interval_s for n, t in targets.items()},
    }
    return conform(
        pd.DataFrame(
            {
                "source_id": numbers.map(per["source_id"]),
                "quantity": numbers.map(per["quantity"]),
                "unit": numbers.map(per["unit"]),
                "time": frame["time"],
                "interval_s": numbers.map(per["interval_s"]),
                "value": frame["value"],
                "estimated": frame["estimated"],
                "note": frame["note"],
                "origin": f"{file}:" + frame["path"] + ".value",
            }
        )
    )


def _hints(targets: dict[int, Target], file: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    """One hint per (source_id, quantity); a second, different target for one is named."""
    hints: dict[tuple[str, str], dict[str, Any]] = {}
    problems = []
    for target in targets.values():
        hint = target.hint()
        key = (hint["source_id"], hint["quantity"])
        if key not in hints:
            hints[key] = hint
        elif hints[key] != hint:
            msg = (
                f"{target.path}: source {key[0]!r} ({key[1]}) was already sent to "
                f"{hints[key]}; this object's readings follow the first"
            )
            problems.append(Problem(ProblemKind.WARNING, msg, file))
    return list(hints.values()), problems
