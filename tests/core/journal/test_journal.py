"""The journal: durable accept, idempotency, held changes, bound, receipts, pruning."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from app.core.journal import queue as journal_queue
from app.core.journal.queue import JournalChanged, Outcome
from app.core.journal.store import Journal, JournalFullError
from connectors.base import make_readings


def half_hours(source_id: str, start: str, n: int, tz: str = "UTC", base: float = 0.0):
    times = pd.date_range(start, periods=n, freq="30min", tz=tz)
    values = [base + i * 0.25 for i in range(n)]
    return make_readings(source_id=source_id, time=times, value=values, interval_s=1800)


def versions(pending: pd.DataFrame) -> dict[int, float]:
    return dict(zip(pending["id"].tolist(), pending["version"].tolist(), strict=True))


def confirm_all(journal: Journal) -> None:
    """Mark every pending reading delivered, as the engine does after a 200."""
    pending = journal.pending(100_000)
    batch = journal.start_batch("readings", pending["id"].tolist(), versions(pending))
    journal.finish_batch(batch, Outcome("confirmed", 200, confirmed=pending["id"].tolist()))


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


def test_accepted_readings_survive_reopening_exactly(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    # Europe/London autumn clock change: 01:00-02:00 happens twice, 4 readings in that hour.
    readings = half_hours("MPAN1", "2026-10-25 00:00", 50, tz="Europe/London")
    first = Journal(path)
    result = first.accept(readings, source="hh.csv")
    first.close()
    assert (result.new, result.total) == (50, 50)
    stored = Journal(path).pending(1000)
    assert stored["time"].tolist() == readings["time"].tolist()
    assert stored["value"].tolist() == readings["value"].tolist()
    assert stored["time"].is_unique
    assert (stored["source"] == "hh.csv").all()


def test_journal_uses_wal_and_full_sync(journal: Journal) -> None:
    assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert journal.integrity_check() == "ok"


def test_resending_identical_readings_is_counted_not_stored_twice(journal: Journal) -> None:
    readings = half_hours("M1", "2026-03-01", 48)
    journal.accept(readings, source="f")
    again = journal.accept(readings, source="f")
    assert (again.new, again.unchanged_pending) == (0, 48)
    confirm_all(journal)
    third = journal.accept(readings, source="f")
    assert (third.new, third.already_delivered) == (0, 48)
    assert journal.counts()["confirmed"] == 48
    assert third.describe() == "0 new, 48 already delivered"


def test_same_reading_from_another_source_is_a_separate_entry(journal: Journal) -> None:
    readings = half_hours("M1", "2026-03-01", 4)
    journal.accept(readings, source="a")
    assert journal.accept(readings, source="b").new == 4


def test_changed_value_before_delivery_replaces_the_pending_one(journal: Journal) -> None:
    journal.accept(half_hours("M1", "2026-03-01", 4), source="f")
    changed = journal.accept(half_hours("M1", "2026-03-01", 4, base=10.0), source="f")
    assert changed.new == 4
    pending = journal.pending(100)
    assert len(pending) == 4
    assert pending["value"].tolist() == [10.0, 10.25, 10.5, 10.75]


def test_changed_value_after_delivery_is_held_until_overwrite(journal: Journal) -> None:
    journal.accept(half_hours("M1", "2026-03-01", 4), source="f")
    confirm_all(journal)
    changed = journal.accept(half_hours("M1", "2026-03-01", 4, base=10.0), source="f")
    assert (changed.new, changed.changed_held) == (0, 4)
    assert journal.pending(100).empty
    assert journal.counts()["held_changes"] == 4
    assert journal.status()[0].held_changes == 4
    assert journal.release_held() == 4
    pending = journal.pending(100)
    assert pending["value"].tolist() == [10.0, 10.25, 10.5, 10.75]
    assert pending["overwrite"].all()
    assert journal.counts()["held_changes"] == 0


def test_duplicates_within_one_batch_keep_the_last_and_are_counted(journal: Journal) -> None:
    readings = half_hours("M1", "2026-03-01", 3)
    twice = pd.concat([readings, readings.assign(value=readings["value"] + 1)], ignore_index=True)
    result = journal.accept(twice, source="f")
    assert (result.new, result.duplicates, result.total) == (3, 3, 6)
    assert journal.pending(10)["value"].tolist() == [1.0, 1.25, 1.5]


def test_full_journal_refuses_the_batch_and_stores_none_of_it(tmp_path: Path) -> None:
    small = Journal(tmp_path / "j.sqlite3", max_bytes=200_000)
    small.accept(half_hours("M1", "2026-01-01", 100), source="f")
    with pytest.raises(JournalFullError) as info:
        small.accept(half_hours("M2", "2026-01-01", 5000), source="f")
    message = str(info.value)
    assert "full" in message and "0.2 MB bound" in message and "meterbridge deliver" in message
    assert small.counts()["pending"] == 100


def test_bad_frame_fails_its_caller_only(journal: Journal) -> None:
    bad = half_hours("M1", "2026-01-01", 3).drop(columns=["value"])
    with pytest.raises(ValueError, match="lacks columns"):
        journal.accept(bad, source="f")
    assert journal.accept(half_hours("M1", "2026-01-01", 3), source="f").new == 3


def test_many_threads_accepting_at_once_lose_nothing(journal: Journal) -> None:
    results = []
    lock = threading.Lock()

    def device(n: int) -> None:
        for k in range(20):
            start = pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(hours=25 * k)
            result = journal.accept(half_hours(f"D{n}", str(start), 50), source=f"dev{n}")
            with lock:
                results.append(result)

    threads = [threading.Thread(target=device, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.new for r in results) == 8 * 20 * 50
    assert journal.counts()["pending"] == 8000
    assert journal.integrity_check() == "ok"


def test_dead_letters_and_replay_per_source(journal: Journal) -> None:
    journal.accept(half_hours("M1", "2026-01-01", 2), source="a")
    journal.accept(half_hours("M2", "2026-01-01", 3), source="b")
    pending = journal.pending(10)
    journal.reject({i: "meter not found" for i in pending["id"].tolist()}, versions(pending))
    letters = journal.dead_letters()
    assert len(letters) == 5 and set(letters["reason"]) == {"meter not found"}
    assert journal.replay(source="b") == 3
    assert journal.pending(10)["source_id"].tolist() == ["M2"] * 3
    again = journal.accept(half_hours("M1", "2026-01-01", 2), source="a")
    assert again.already_rejected == 2


def test_status_counts_per_source_and_oldest_pending(journal: Journal) -> None:
    journal.accept(half_hours("M1", "2026-02-01 10:00", 4), source="a")
    journal.accept(half_hours("M2", "2026-01-05", 2), source="b")
    status = {s.source: s for s in journal.status()}
    assert status["a"].count("pending") == 4
    assert status["b"].oldest_pending == pd.Timestamp("2026-01-05", tz="UTC")


def test_newest_times_are_each_sources_latest_reading_over_all_its_meters(
    journal: Journal,
) -> None:
    # 'a' holds two meters, the later one first in the index; delivered readings count too.
    journal.accept(half_hours("M2", "2019-11-13 00:00", 48, tz="Europe/London"), source="a")
    confirm_all(journal)
    journal.accept(half_hours("M1", "2019-11-10 00:00", 4, tz="Europe/London"), source="a")
    journal.accept(half_hours("M9", "2026-03-29 00:00", 48, tz="Europe/London"), source="b")
    newest = journal.newest_times()
    assert newest == {
        "a": pd.Timestamp("2019-11-13 23:30", tz="UTC"),
        # the spring clock change: 48 half-hours from local midnight end at 01:30 the next day
        "b": pd.Timestamp("2026-03-30 00:30", tz="Europe/London").tz_convert("UTC"),
    }
    assert all(at.utcoffset() is not None for at in newest.values())
    empty = Journal(journal.path.parent / "empty.sqlite3")
    assert empty.newest_times() == {}
    empty.close()


def test_prune_removes_old_delivered_rows_but_keeps_receipts(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal.accept(half_hours("M1", "2026-01-01", 4), source="f")
    monkeypatch.setattr(journal_queue, "now", lambda: 1_000_000.0)
    confirm_all(journal)
    journal.accept(half_hours("M2", "2026-01-01", 2), source="f")
    monkeypatch.setattr(journal_queue, "now", lambda: 1_000_000.0 + 91 * 86400)
    assert journal.prune(90) == 4
    counts = journal.counts()
    assert (counts["confirmed"], counts["pending"]) == (0, 2)
    receipts = journal.receipts()
    assert len(receipts) == 1 and receipts[0]["confirmed"] == 4


def test_crashed_in_flight_batch_goes_back_to_pending(journal: Journal) -> None:
    journal.accept(half_hours("M1", "2026-01-01", 4), source="f")
    pending = journal.pending(10)
    journal.start_batch("readings", pending["id"].tolist(), versions(pending))
    assert journal.pending(10).empty
    assert journal.recover_in_flight() == 4
    assert len(journal.pending(10)) == 4
    assert journal.receipts()[0]["status"] == "interrupted"


def test_one_group_commit_stores_several_callers_and_the_last_value_wins(
    journal: Journal,
) -> None:
    from app.core.journal.store import _Request

    first = _Request(half_hours("M1", "2026-01-01", 4), "dev")
    second = _Request(half_hours("M1", "2026-01-01", 4, base=5.0), "dev")
    bad = _Request(half_hours("M1", "2026-01-01", 2).drop(columns=["time"]), "dev")
    journal._queue = [first, bad, second]
    journal._commit_queued()
    assert first.result is not None and second.result is not None
    assert (first.result.duplicates, second.result.new) == (4, 4)
    assert isinstance(bad.error, ValueError)
    assert journal.pending(10)["value"].tolist() == [5.0, 5.25, 5.5, 5.75]


def test_a_request_failing_part_way_leaves_the_readings_it_would_replace(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last value wins within a group, but not from a request that failed.

    The bad request's first chunk re-states M1's readings with other values;
    its second chunk has a reading without a source id. The first request's
    values must be the ones stored.
    """
    from app.core.journal import accept as journal_accept
    from app.core.journal.store import _Request

    monkeypatch.setattr(journal_accept, "INSERT_CHUNK", 4)
    first = _Request(half_hours("M1", "2026-01-01", 4), "dev")
    replacing = half_hours("M1", "2026-01-01", 4, base=7.0)
    broken = half_hours("M2", "2026-01-01", 2)
    broken["source_id"] = [None, None]
    bad = _Request(pd.concat([replacing, broken], ignore_index=True), "dev")
    journal._queue = [first, bad]
    journal._commit_queued()
    assert isinstance(bad.error, ValueError)
    assert first.result is not None and (first.result.new, first.result.duplicates) == (4, 0)
    assert journal.pending(10)["value"].tolist() == [0.0, 0.25, 0.5, 0.75]


def test_a_reading_changed_after_it_was_read_for_delivery_is_not_marked_sent(
    journal: Journal,
) -> None:
    journal.accept(half_hours("M1", "2026-01-01", 2), source="f")
    pending = journal.pending(10)
    journal.accept(half_hours("M1", "2026-01-01", 2, base=9.0), source="f")
    with pytest.raises(JournalChanged):
        journal.start_batch("readings", pending["id"].tolist(), versions(pending))
    assert journal.settle(pending["id"].tolist(), {}, versions(pending)) == (0, 0)
    assert journal.pending(10)["value"].tolist() == [9.0, 9.25]
    assert journal.receipts() == []


def test_a_file_that_is_not_a_journal_is_named(tmp_path: Path) -> None:
    from app.core.journal.store import JournalError

    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not a database, just some text " * 100)
    with pytest.raises(JournalError, match=r"journal\.sqlite3: the journal cannot be opened"):
        Journal(path)


def test_accept_many_stores_each_source_and_fails_only_the_bad_batch(journal: Journal) -> None:
    from app.core.journal.store import AcceptBatch

    good = AcceptBatch(half_hours("M1", "2026-01-01", 3), "dev-a")
    other = AcceptBatch(half_hours("M2", "2026-01-01", 2, base=4.0), "dev-b")
    bad = AcceptBatch(half_hours("M3", "2026-01-01", 2).drop(columns=["time"]), "dev-c")
    results = journal.accept_many([good, bad, other])
    assert isinstance(results[1], ValueError)
    assert [getattr(r, "new", None) for r in (results[0], results[2])] == [3, 2]
    pending = journal.pending(10)
    assert sorted(zip(pending["source_id"], pending["value"], strict=True)) == [
        ("M1", 0.0),
        ("M1", 0.25),
        ("M1", 0.5),
        ("M2", 4.0),
        ("M2", 4.25),
    ]


def test_point_columns_are_stored_exactly_as_their_dataframe(tmp_path: Path) -> None:
    """The listener hands a reader's columns over without pandas; nothing may differ."""
    from connectors.push.common import PointColumns

    columns = PointColumns()
    for i, value in enumerate([0.1, 2.5e-7, 123456.789, 0.0]):
        columns.add(
            "000D6F0001A303D4_500",
            "kWh",
            1_780_000_000_000_000_000 + i * 60 * 10**9,
            value,
            f"push:{i}",
            interval_s=60,
            note="n" if i else None,
        )
    via_columns = Journal(tmp_path / "a.sqlite3")
    via_frame = Journal(tmp_path / "b.sqlite3")
    assert via_columns.accept(columns, source="dev").new == 4
    assert via_frame.accept(columns.to_frame(), source="dev").new == 4
    keep = ["source_id", "quantity", "unit", "time", "interval_s", "value", "estimated", "note"]
    left, right = via_columns.pending(10)[keep], via_frame.pending(10)[keep]
    pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True))
    assert left["value"].tolist() == [0.1, 2.5e-7, 123456.789, 0.0]
    broken = PointColumns()
    broken.add("", "kWh", 1_780_000_000_000_000_000, 1.0, "push:0")
    with pytest.raises(ValueError, match="no source_id"):
        via_columns.accept(broken, source="dev")


def _points(values: list[float], sensor: str = "000D6F0001A303D4_500") -> Any:
    from connectors.push.common import PointColumns

    columns = PointColumns()
    for i, value in enumerate(values):
        columns.add(sensor, "kWh", 1_780_000_000_000_000_000 + i * 60 * 10**9, value, f"p:{i}")
    return columns


def test_pushed_points_new_then_resent_then_changed_are_classified_as_any_batch(
    journal: Journal,
) -> None:
    """The all-new fast path and the general path give the same answers."""
    from app.core.journal.store import AcceptBatch

    assert journal.accept(_points([1.0, 2.0, 3.0]), source="dev").new == 3
    mixed = journal.accept(_points([1.0, 2.0, 3.0, 4.0]), source="dev")
    assert (mixed.unchanged_pending, mixed.new) == (3, 1)
    confirm_all(journal)
    changed = journal.accept(_points([1.0, 2.5, 3.0, 4.0, 5.0]), source="dev")
    assert (changed.already_delivered, changed.changed_held, changed.new) == (3, 1, 1)
    twice = [AcceptBatch(_points([7.0]), "dev"), AcceptBatch(_points([8.0]), "dev")]
    first, second = journal.accept_many(twice)
    assert (first.duplicates, second.changed_held) == (1, 1)  # type: ignore[union-attr]
    assert journal.counts()["pending"] == 1
