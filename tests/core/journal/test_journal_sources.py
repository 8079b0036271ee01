"""Schema 7: each source's newest time and count kept in a table, status without a scan.

The dashboard asks for every source's newest reading and its counts by state
every few seconds. They are read from the ``sources`` table and the partial
state indexes; these tests hold them to what counting every reading says,
through accepts (both paths), delivery, held values, dead letters and pruning,
and through the upgrade of a schema-6 journal.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.journal.db import SCHEMA_VERSION
from app.core.journal.held import _LIST
from app.core.journal.queue import Outcome
from app.core.journal.store import Journal
from connectors.base import make_readings
from connectors.push.common import PointColumns

T0 = 1_767_225_600 * 10**9  # 2026-01-01T00:00Z
HALF_HOUR = 1800 * 10**9
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The indexes schema 6 (meterbridge before 7 Dec 2026 05:00 UTC) had beside the key.
SCHEMA_6_INDEXES = """
CREATE INDEX readings_state ON readings (state, id);
CREATE INDEX readings_source_time ON readings (source, time);
"""


def frame(meter: str, start: int, values: list[float]) -> pd.DataFrame:
    times = pd.to_datetime([T0 + (start + i) * HALF_HOUR for i in range(len(values))], utc=True)
    return make_readings(source_id=meter, time=times, value=values, interval_s=1800)


def points(meter: str, start: int, values: list[float]) -> PointColumns:
    columns = PointColumns()
    for i, value in enumerate(values):
        columns.add(meter, "kWh", T0 + (start + i) * HALF_HOUR, value, f"push:{i}")
    return columns


def scanned_status(journal: Journal) -> list[object]:
    """Status as counting every reading gives it."""
    return list(journal._scanned_status())


def assert_kept_counts_are_exact(journal: Journal, newest: dict[str, int]) -> None:
    """Status and counts as a scan gives them; newest times as `newest` (source: ns) says.

    `newest` is the newest time accepted from each source; a source whose
    readings were all pruned is forgotten (by the model, as by the journal).
    """
    status = scanned_status(journal)
    assert journal.status() == status
    held = {s.source for s in status}
    for gone in set(newest) - held:
        del newest[gone]
    assert journal.newest_times() == {
        source: EPOCH + timedelta(microseconds=ns // 1000) for source, ns in newest.items()
    }
    totals = journal.counts()
    for state in ("pending", "sent", "confirmed", "rejected", "held"):
        assert totals[state] == sum(s.count(state) for s in status)


def accepted(newest: dict[str, int], source: str, start: int, count: int) -> None:
    last = T0 + (start + count - 1) * HALF_HOUR
    newest[source] = max(newest.get(source, last), last)


def deliver(journal: Journal, confirm: int, reject: int, leave_sent: int) -> None:
    """A batch of the oldest pending readings: some confirmed, some refused, some in flight."""
    pending = journal.pending(confirm + reject + leave_sent)
    if pending.empty:
        return
    ids = pending["id"].tolist()
    versions = dict(zip(ids, pending["version"].tolist(), strict=True))
    batch = journal.start_batch("readings", ids, versions)
    if len(ids) > leave_sent:
        done = ids[: len(ids) - leave_sent]
        refused = {i: "no channel" for i in done[confirm:]}
        journal.finish_batch(
            batch, Outcome("partial", 200, confirmed=done[:confirm], rejected=refused)
        )


step = st.one_of(
    st.tuples(
        st.just("accept"),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["M1", "M2"]),
        st.integers(0, 30),
        st.lists(st.sampled_from([1.0, 2.0, 3.5]), min_size=1, max_size=8),
    ),
    st.tuples(
        st.just("push"),
        st.sampled_from(["a", "dev"]),
        st.sampled_from(["S1", "S2"]),
        st.integers(0, 30),
        st.lists(st.sampled_from([1.0, 2.0]), min_size=1, max_size=8),
    ),
    st.tuples(st.just("deliver"), st.integers(0, 6), st.integers(0, 3), st.integers(0, 2)),
    st.tuples(st.just("hold"), st.integers(1, 3)),
    st.just(("prune",)),
    st.just(("replay",)),
    st.just(("overwrite",)),
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_status_and_newest_times_match_counting_every_reading(tmp_path: Path, steps) -> None:
    path = tmp_path / "journal.sqlite3"
    path.unlink(missing_ok=True)
    journal = Journal(path)
    newest: dict[str, int] = {}
    try:
        for action, *args in steps:
            if action in ("accept", "push"):
                source, meter, start, values = args
                readings = (frame if action == "accept" else points)(meter, start, values)
                journal.accept(readings, source=source)
                accepted(newest, source, start, len(values))
            elif action == "deliver":
                deliver(journal, *args)
            elif action == "hold":
                pending = journal.pending(args[0])
                versions = dict(zip(pending["id"], pending["version"], strict=True))
                journal.settle(
                    [], {int(i): "EnergyCAP already has 9.0" for i in versions}, versions
                )
            elif action == "prune":
                journal.prune(0)  # every confirmed reading (not one with a held change)
            elif action == "replay":
                journal.replay()
            else:
                journal.release_held()
            assert_kept_counts_are_exact(journal, newest)
    finally:
        journal.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_a_source_whose_readings_are_all_pruned_is_no_longer_listed(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.accept(frame("M1", 0, [1.0, 2.0]), source="old")
    journal.accept(points("S1", 5, [3.0]), source="dev")
    deliver(journal, confirm=2, reject=0, leave_sent=0)
    assert journal.prune(0) == 2
    assert list(journal.newest_times()) == ["dev"]
    assert [s.source for s in journal.status()] == ["dev"]
    journal.accept(frame("M1", 0, [1.0]), source="old")  # sent again: counted again
    assert journal.newest_times()["old"] == EPOCH + timedelta(microseconds=T0 // 1000)
    assert_kept_counts_are_exact(journal, {"old": T0, "dev": T0 + 5 * HALF_HOUR})
    journal.close()


def schema_6_journal(path: Path) -> list[tuple[object, ...]]:
    """A journal as schema 6 left it: two sources, readings in every state, a held change."""
    first = Journal(path)
    first.accept(frame("M1", 0, [1.0, 2.0, 3.0, 4.0, 5.0]), source="hh.csv")
    first.accept(points("S1", 40, [7.0, 8.0, 9.0]), source="dev")
    deliver(first, confirm=3, reject=1, leave_sent=1)
    first.accept(frame("M1", 0, [1.5]), source="hh.csv")  # changed after delivery: held
    pending = first.pending(1)
    first.settle(
        [],
        {int(pending["id"][0]): "EnergyCAP already has 9.0"},
        {int(pending["id"][0]): int(pending["version"][0])},
    )
    first.close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE sources")
        conn.execute("DROP TRIGGER readings_deleted")
        for name in ("pending", "sent", "held", "rejected"):
            conn.execute(f"DROP INDEX readings_{name}")
        conn.executescript(SCHEMA_6_INDEXES)
        conn.execute("PRAGMA user_version = 6")
        return conn.execute("SELECT * FROM readings ORDER BY id").fetchall()


def test_a_schema_6_journal_keeps_every_reading_and_counts_its_sources(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    before = schema_6_journal(path)
    journal = Journal(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM readings ORDER BY id").fetchall() == before
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 7
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"sources", "readings_deleted", "readings_pending", "readings_rejected"} <= names
    assert not {"readings_state", "readings_source_time"} & names
    assert journal.integrity_check() == "ok"
    assert journal.counts() == {"pending": 2, "sent": 1, "confirmed": 3, "rejected": 1,
                                "held": 1, "held_changes": 1}  # fmt: skip
    assert journal.newest_times() == {
        "dev": EPOCH + timedelta(microseconds=(T0 + 42 * HALF_HOUR) // 1000),
        "hh.csv": EPOCH + timedelta(microseconds=(T0 + 4 * HALF_HOUR) // 1000),
    }
    newest = {"dev": T0 + 42 * HALF_HOUR, "hh.csv": T0 + 4 * HALF_HOUR}
    assert_kept_counts_are_exact(journal, newest)
    # and it goes on working: new readings counted, the in-flight batch settled, pruning
    journal.accept(points("S1", 50, [1.0]), source="dev")
    deliver(journal, confirm=1, reject=0, leave_sent=0)
    journal.prune(0)
    assert_kept_counts_are_exact(
        journal, {"dev": T0 + 50 * HALF_HOUR, "hh.csv": T0 + 4 * HALF_HOUR}
    )
    journal.close()


def test_every_state_query_of_the_journal_uses_its_partial_index(tmp_path: Path) -> None:
    """Queries naming one waiting state read its small index, not every reading."""
    journal = Journal(tmp_path / "journal.sqlite3")
    queries = {
        "readings_pending": "SELECT id FROM readings WHERE state = 'pending' AND id > 5 "
        "ORDER BY id LIMIT 10",
        "readings_sent": "SELECT id FROM readings WHERE batch_id = 3 AND state = 'sent'",
        "readings_rejected": "SELECT id FROM readings WHERE state = 'rejected' ORDER BY id",
        "readings_held": "SELECT id FROM readings WHERE state = 'held' AND source = 'a'",
    }
    with journal.reader() as conn:
        for index, sql in queries.items():
            plan = " ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))
            assert index in plan, (sql, plan)
        # the list of held readings reads the held table and the held index, not every reading
        for args in ((10,), ("a", "a", 10)):
            sql = _LIST.format(
                **dict.fromkeys(("joined", "plain"), " AND source = ?" * (len(args) > 1))
            )
            plan = " ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))
            assert "readings_held" in plan and "readings_key" not in plan, plan
    journal.close()


def test_status_taken_while_delivery_moves_readings_counts_each_reading_once(
    tmp_path: Path,
) -> None:
    """Counts are taken in one read snapshot: a commit between two queries changes nothing."""
    journal = Journal(tmp_path / "journal.sqlite3")
    for start in range(0, 3000, 50):
        journal.accept(points("S1", start, [1.0] * 50), source="dev")
    stop = threading.Event()

    def delivery() -> None:  # pending -> sent -> confirmed, and some sent back to pending
        batches = 0
        while not stop.is_set():
            pending = journal.pending(7)
            if pending.empty:
                return
            ids = pending["id"].tolist()
            versions = dict(zip(ids, pending["version"].tolist(), strict=True))
            batch = journal.start_batch("readings", ids, versions)
            batches += 1
            if batches % 3:
                journal.finish_batch(batch, Outcome("confirmed", 200, confirmed=ids))
            else:
                journal.release_batch(batch, "interrupted", "unreachable")

    mover = threading.Thread(target=delivery)
    mover.start()
    seen = 0
    try:
        while mover.is_alive() and seen < 300:
            before = scanned_status(journal)[0].count("confirmed")
            status = journal.status()[0]
            after = scanned_status(journal)[0].count("confirmed")
            assert sum(status.counts.values()) == 3000
            assert before <= status.count("confirmed") <= after
            assert min(status.counts.values()) > 0
            seen += 1
    finally:
        stop.set()
        mover.join()
        journal.close()
    assert seen > 20


def test_a_sources_table_edited_by_hand_never_gives_a_negative_count(tmp_path: Path) -> None:
    # The counts fall back to counting every reading when the kept totals cannot be right;
    # a state with no readings then counts 0, never what the kept totals made of it.
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        journal.accept(frame("M1", 0, [1.0, 2.0, 3.0]), source="hh")
        with sqlite3.connect(tmp_path / "journal.sqlite3") as conn:
            conn.execute("UPDATE sources SET readings = 0")
        counts = journal.counts()
        assert counts["pending"] == 3 and counts["confirmed"] == 0
        assert all(n >= 0 for n in counts.values())
        (status,) = journal.status()
        assert status.counts == {"pending": 3}
    finally:
        journal.close()
