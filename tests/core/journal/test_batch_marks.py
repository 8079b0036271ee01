"""A batch's readings marked sent and settled from numpy columns: the same journal as from lists.

Delivery hands `start_batch` the ids as an array with the versions summed,
and `finish_batch` what EnergyCAP now has as columns (`queue.Targets`); the
journal must end the same as with the lists and tuples the API also takes,
and a value changed while the batch was prepared must still stop it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.core.journal import queue as journal_queue
from app.core.journal.marks import Targets
from app.core.journal.queue import JournalChanged, Outcome
from app.core.journal.store import Journal
from connectors.base import make_readings


def half_hours(source_id: str, values: list[float]) -> pd.DataFrame:
    times = pd.date_range("2026-03-01", periods=len(values), freq="30min", tz="UTC")
    return make_readings(source_id=source_id, time=times, value=values, interval_s=1800)


def targets_of(pending: pd.DataFrame) -> list[tuple[str, int, float, int]]:
    times = pd.DatetimeIndex(pending["time"]).asi8.tolist()
    return [
        (f"readings|channel_import_id={s}", t, v, 0)
        for s, t, v in zip(pending["source_id"], times, pending["value"], strict=True)
    ]


def delivered(journal: Journal) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with sqlite3.connect(journal.path) as conn:
        readings = conn.execute(
            "SELECT source_id, time, value, state, batch_id FROM readings ORDER BY id"
        ).fetchall()
        targets = conn.execute(
            "SELECT target, time, value, estimated FROM targets ORDER BY time, target"
        ).fetchall()
    return readings, targets


@pytest.mark.parametrize("chunk", [2, 1000])
def test_columns_and_rows_leave_the_same_journal(tmp_path: Path, monkeypatch, chunk: int) -> None:
    monkeypatch.setattr(journal_queue, "FINISH_CHUNK", chunk)  # several parts, or one
    ends = []
    for how in ("rows", "columns"):
        journal = Journal(tmp_path / f"{how}.sqlite3")
        journal.accept(half_hours("M2", [2.0, 2.5, 3.0]), source="f")
        journal.accept(half_hours("M1", [1.0, 1.5, 9.0, 4.0]), source="f")
        pending = journal.pending(100)
        ids = pending["id"].to_numpy(dtype="int64")
        rows = targets_of(pending)
        if how == "rows":
            versions = dict(zip(ids.tolist(), pending["version"].tolist(), strict=True))
            batch = journal.start_batch("readings", ids.tolist(), versions)
            journal.finish_batch(batch, Outcome("confirmed", 200, ids.tolist(), targets=rows))
        else:
            read = pending["version"].to_numpy(dtype="int64")
            batch = journal.start_batch("readings", ids[::-1], read[::-1])
            journal.finish_batch(batch, Outcome("confirmed", 200, ids, targets=Targets.of(rows)))
        ends.append(delivered(journal))
        assert journal.pending(100).empty
    assert ends[0] == ends[1]
    readings, targets = ends[1]
    assert {state for *_, state, _ in readings} == {"confirmed"}
    assert len(targets) == 7 and targets[0][0].endswith("M1")  # key order: time, then target


def test_a_value_changed_meanwhile_stops_a_batch_given_as_columns(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.accept(half_hours("M1", [1.0, 2.0, 3.0]), source="f")
    before = journal.pending(10)
    read = before["version"].to_numpy(dtype="int64")
    journal.accept(half_hours("M1", [1.0, 2.0, 7.0]), source="f")  # a new value, still pending
    with pytest.raises(JournalChanged):
        journal.start_batch("readings", before["id"].to_numpy(dtype="int64"), read)
    assert journal.pending(10)["value"].tolist() == [1.0, 2.0, 7.0]  # nothing marked sent


def test_only_the_confirmed_ids_are_settled_the_others_go_back(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.accept(half_hours("M1", [1.0, 2.0, 3.0, 4.0]), source="f")
    pending = journal.pending(10)
    ids = pending["id"].to_numpy(dtype="int64")
    batch = journal.start_batch("readings", ids, pending["version"].to_numpy(dtype="int64"))
    kept = targets_of(pending)
    outcome = Outcome(
        "partly rejected",
        200,
        confirmed=np.array([ids[2], ids[0]]),
        rejected={int(ids[1]): "EnergyCAP: no such channel"},
        targets=Targets.of([kept[2], kept[0]]),
        unconfirmed=[int(ids[3])],
    )
    journal.finish_batch(batch, outcome)
    readings, targets = delivered(journal)
    assert [state for *_, state, _ in readings] == ["confirmed", "rejected", "confirmed", "pending"]
    assert [value for _, _, value, _ in targets] == [1.0, 3.0]
    assert journal.pending(10)["value"].tolist() == [4.0]


def test_a_value_changed_in_a_later_part_leaves_nothing_marked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(journal_queue, "MARK_CHUNK", 2)  # parts of two readings
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.accept(half_hours("M1", [1.0, 2.0, 3.0, 4.0, 5.0]), source="f")
    before = journal.pending(10)
    read = before["version"].to_numpy(dtype="int64")
    journal.accept(half_hours("M1", [1.0, 2.0, 3.0, 4.0, 8.0]), source="f")  # the third part
    with pytest.raises(JournalChanged):
        journal.start_batch("readings", before["id"].to_numpy(dtype="int64"), read)
    after = journal.pending(10)
    assert after["value"].tolist() == [1.0, 2.0, 3.0, 4.0, 8.0]  # all pending, the new value kept
    readings, _ = delivered(journal)
    assert {batch for *_, batch in readings} == {None}
    with sqlite3.connect(journal.path) as conn:
        assert conn.execute("SELECT count(*) FROM batches").fetchone() == (0,)  # no receipt
    # read again, they go as one batch in three parts
    again = journal.start_batch(
        "readings", after["id"].to_numpy(dtype="int64"), after["version"].to_numpy(dtype="int64")
    )
    readings, _ = delivered(journal)
    assert [(state, batch) for *_, state, batch in readings] == [("sent", again)] * 5


def test_a_batch_marked_in_parts_is_put_back_after_a_crash(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(journal_queue, "MARK_CHUNK", 2)
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.accept(half_hours("M1", [1.0, 2.0, 3.0]), source="f")
    pending = journal.pending(10)
    ids = pending["id"].to_numpy(dtype="int64")
    journal.start_batch("readings", ids[:2], pending["version"].to_numpy(dtype="int64")[:2])
    assert journal.recover_in_flight() == 2  # what a crash before the answer leaves
    assert journal.pending(10)["value"].tolist() == [1.0, 2.0, 3.0]
