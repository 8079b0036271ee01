"""Register differencing: pure rules, and the durable store with the real journal."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.core.journal.store import Journal
from app.core.sources.register_store import RegisterStore
from connectors.base import make_readings
from connectors.push.registers import difference, splits

MIN = 60_000_000_000


def test_difference_later_time_ends_interval_first_only_starts() -> None:
    times = np.array([0, 15, 30, 45], dtype="int64") * MIN
    result = difference(times, np.array([100.0, 101.5, 101.5, 103.0]))
    assert list(result.end_ns) == [15 * MIN, 30 * MIN, 45 * MIN]
    assert list(result.interval_s) == [900, 900, 900]
    assert list(result.use) == [1.5, 0.0, 1.5]
    assert not result.reset.any()


def test_a_drop_is_a_reset_never_negative() -> None:
    times = np.array([0, 30, 60], dtype="int64") * MIN
    values = np.array([500.0, 2.0, 3.5])
    result = difference(times, values)
    assert list(result.use) == [2.0, 1.5]
    assert list(result.reset) == [True, False]
    skipped = difference(times, values, reset_rule="skip")
    assert list(skipped.use) == [1.5]
    assert skipped.skipped_ns == [30 * MIN]
    assert (difference(times, values).use >= 0).all()


def test_splits_finds_points_inside_known_intervals() -> None:
    stored = np.array([0, 30], dtype="int64") * MIN
    assert splits(stored, np.array([15 * MIN, 45 * MIN])) == [(15 * MIN, 0, 30 * MIN)]


START = pd.Timestamp("2026-10-24T22:00Z")


def points(indices: list[int], source: str = "N_333") -> pd.DataFrame:
    """Register readings every 15 min; value = cumulative kWh (2.5 kWh per step)."""
    return make_readings(
        source_id=source,
        quantity="kWh-register",
        unit="kWh",
        time=[START + pd.Timedelta(minutes=15 * i) for i in indices],
        value=[1000.0 + 2.5 * i + (0.25 if i % 3 == 0 else 0.0) for i in indices],
        origin=[f"push:{i}" for i in indices],
    )


def run(tmp: Path, batches: list[list[int]]) -> pd.DataFrame:
    store = RegisterStore(tmp / "registers.sqlite3")
    journal = Journal(tmp / "journal.sqlite3")
    for batch in batches:
        derived = store.derive(points(batch), source="push:gw")
        journal.accept(derived.readings, source="push:gw")
    store.close()
    frame = journal.pending(10_000)
    return frame.sort_values("time")[["source_id", "quantity", "time", "interval_s", "value"]]


def test_late_duplicate_and_out_of_order_batches_equal_in_order(tmp_path: Path) -> None:
    in_order = run(tmp_path / "a", [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
    assert len(in_order) == 11
    assert set(in_order["quantity"]) == {"kWh"}
    rng = random.Random(7)
    shuffled = [[8, 9, 10, 11], [0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 2, 3], [11, 9]]
    mixed = [[rng.choice(range(12)) for _ in range(4)] for _ in range(6)] + [list(range(12))]
    for name, batches in (("b", shuffled), ("c", mixed), ("d", [[11, 0], [5], list(range(12))])):
        result = run(tmp_path / name, batches)
        pd.testing.assert_frame_equal(
            result.reset_index(drop=True), in_order.reset_index(drop=True)
        )


def test_resend_derives_nothing_new_and_split_is_reported(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "r.sqlite3")
    journal = Journal(tmp_path / "j.sqlite3")
    first = store.derive(points([0, 2]), source="s")
    assert journal.accept(first.readings, source="s").new == 1
    again = store.derive(points([0, 2]), source="s")
    assert journal.accept(again.readings, source="s").unchanged_pending == 1
    late = store.derive(points([1]), source="s")
    assert len(late.notes) == 1 and "splits the interval" in late.notes[0]
    result = journal.accept(late.readings, source="s")
    assert (result.new, result.changed_held) == (2, 0)  # new at 1, pending at 2 replaced
    frame = journal.pending(10).sort_values("time")
    assert list(frame["interval_s"]) == [900, 900]
    assert frame["value"].sum() == pytest.approx(points([2])["value"][0] - points([0])["value"][0])


def test_raw_mode_and_non_registers_pass_through(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "r.sqlite3")
    raw = store.derive(points([0, 1]), source="s", raw=True)
    assert list(raw.readings["quantity"]) == ["kWh-register", "kWh-register"]
    other = make_readings(source_id="x", time=[START], value=[1.0], quantity="kW")
    mixed = pd.concat([other, points([0, 1])], ignore_index=True)
    derived = store.derive(mixed, source="t")
    assert list(derived.readings["quantity"]) == ["kW", "kWh"]
    assert derived.readings["interval_s"].tolist() == [0, 900]


def test_reset_is_flagged_in_the_readings(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "r.sqlite3")
    frame = make_readings(
        source_id="r",
        quantity="kWh-register",
        time=[START, START + pd.Timedelta(minutes=30)],
        value=[900.0, 4.0],
    )
    derived = store.derive(frame, source="s")
    row = derived.readings.iloc[0]
    assert row["value"] == 4.0 and bool(row["estimated"]) and "reset" in row["note"]
    assert derived.resets == 1


def test_prune_keeps_each_series_latest_point(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "r.sqlite3")
    store.derive(points(list(range(8))), source="s")
    store.derive(points([0, 1], source="old"), source="s")
    now = int((START + pd.Timedelta(days=30)).value)
    assert store.prune(29, now_ns=now) == 8  # 7 of N_333 and 1 of "old"
    later = store.derive(points([8]), source="s")
    assert list(later.readings["interval_s"]) == [900]  # the series goes on from point 7


def test_skip_rule_derives_nothing_for_a_drop_and_says_so(tmp_path: Path) -> None:
    store = RegisterStore(tmp_path / "r.sqlite3")
    frame = make_readings(
        source_id="r",
        quantity="kWh-register",
        time=[START, START + pd.Timedelta(minutes=30), START + pd.Timedelta(minutes=60)],
        value=[900.0, 4.0, 5.5],
    )
    derived = store.derive(frame, source="s", reset_rule="skip")
    assert list(derived.readings["value"]) == [1.5]
    assert any("dropped" in note for note in derived.notes)
