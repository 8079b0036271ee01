"""Preview warnings: vectorised checks on mapped readings, with clock changes in London and
New York (a 23-hour spring day is not a gap)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.core.mapping import MappingRow, MappingTable, apply_mapping
from app.core.preview.checks import Flag, check_readings, describe_flags
from connectors.base import Problem, ProblemKind, make_readings


def _mapped(values: list[float], zone: str, start: str, *, drop: tuple[int, ...] = (),
            estimated: tuple[int, ...] = (), source: str = "M1") -> pd.DataFrame:  # fmt: skip
    times = pd.date_range(start, periods=len(values), freq="30min", tz=zone)
    keep = [i for i in range(len(values)) if i not in drop]
    flags = [i in estimated for i in keep]
    readings = make_readings(
        source_id=source, time=times[keep], value=np.array(values)[keep], interval_s=1800,
        estimated=flags,
    )  # fmt: skip
    return apply_mapping(readings, MappingTable(rows=[MappingRow("M1", meter_import_id="X")]))


def test_spring_forward_days_are_not_gaps() -> None:
    for zone, day in (("Europe/London", "2026-03-29"), ("America/New_York", "2026-03-08")):
        mapped = _mapped([1.0] * 46, zone, f"{day} 00:30")
        report = check_readings(mapped)
        assert report.count(Flag.GAP) == 0, zone
        assert report.warnings == []


def test_gap_spike_negative_estimated_duplicate_and_unmapped() -> None:
    values = [2.0] * 48
    values[10], values[30] = 40.0, -1.0
    mapped = _mapped(values, "Europe/London", "2026-10-25 00:30", drop=(20, 21), estimated=(5,))
    other = _mapped([3.0, 3.0], "UTC", "2026-10-25 00:30", source="M2")
    both = pd.concat([mapped, other, other.iloc[:1]], ignore_index=True)
    report = check_readings(both)
    assert report.count(Flag.GAP) == 1
    assert (
        report.count(Flag.SPIKE) == 1 and both["value"][report.flags & Flag.SPIKE > 0].item() == 40
    )
    assert report.count(Flag.NEGATIVE) == 1
    assert report.count(Flag.ESTIMATED) == 1
    assert report.count(Flag.DUPLICATE) == 2
    assert report.count(Flag.UNMAPPED) == 3
    kinds = [w.kind for w in report.warnings]
    assert kinds == ["gap before", "duplicate", "spike", "negative", "estimated", "unmapped"]
    unmapped = report.warnings[-1]
    assert unmapped.source_id == "M2" and "not mapped to EnergyCAP yet (M2)" in unmapped.message
    assert describe_flags(int(Flag.SPIKE | Flag.ESTIMATED)) == "Unusual jump, Estimated"


def test_a_school_day_profile_is_not_a_spike() -> None:
    night, day = [1.0] * 14, [6.0, 9.0, 12.0, 14.0] + [15.0] * 12 + [10.0, 6.0, 3.0, 2.0]
    values = night + day + [1.0] * (48 - len(night) - len(day))
    assert check_readings(_mapped(values, "Europe/London", "2026-06-01 00:30")).warnings == []


def test_held_back_days_and_bad_values_become_warnings() -> None:
    problems = [
        Problem(ProblemKind.HELD_BACK, "48 periods on a 50-period day; held back",
                file="hh.csv", line=7, source_id="M1", count=48),
        Problem(ProblemKind.BAD_VALUE, "not a number", file="hh.csv", line=9, column="[03:00]",
                value="n/a"),
    ]  # fmt: skip
    report = check_readings(_mapped([1.0] * 4, "UTC", "2026-01-01"), problems)
    held, bad = report.warnings[:2]
    assert (held.kind, held.count, held.source_id) == ("held back", 48, "M1")
    assert held.message == "hh.csv:7: 48 periods on a 50-period day; held back"
    assert bad.message == "hh.csv:9, column [03:00], value 'n/a': not a number"


def test_many_rows_are_checked_quickly() -> None:
    import time

    n = 200_000
    times = pd.date_range("2020-01-01", periods=n // 4, freq="30min", tz="UTC")
    readings = make_readings(
        source_id=np.repeat(["A", "B", "C", "D"], n // 4), time=np.tile(times, 4),
        value=np.random.default_rng(3).uniform(1, 2, n), interval_s=1800,
    )  # fmt: skip
    mapped = apply_mapping(readings, MappingTable())
    started = time.perf_counter()
    report = check_readings(mapped)
    assert time.perf_counter() - started < 2.0
    assert len(report.flags) == n and report.count(Flag.GAP) == 0
