"""A pull's missing readings kept with its job's last run: plain words, capped, read back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from app.core.pulls.gap_notes import MAX_NOTES, GapNotes
from app.core.pulls.jobs import JobOutcome, JobStore
from connectors.gap_tracker import GapTracker
from connectors.series_gaps import MAX_LISTED

NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)


def _gaps(source_id: str, every: str, removed: list[int], periods: int = 400) -> GapTracker:
    times = pd.date_range("2026-03-28 22:00", periods=periods, freq=every, tz="UTC")
    keep = np.ones(periods, dtype=bool)
    keep[removed] = False
    tracker = GapTracker()
    tracker.add(pd.DataFrame({"source_id": source_id, "quantity": "kWh", "time": times[keep]}))
    return tracker


def test_a_runs_gaps_are_said_in_plain_words_in_the_pcs_zone_and_capped() -> None:
    notes = GapNotes()
    notes.add(_gaps("M1", "30min", [4, 5, 6]).gaps(), "sftp://host/in/a.csv")
    london = ZoneInfo("Europe/London")  # 2026-03-29 00:00 UTC is 00:00 GMT; BST from 01:00
    assert notes.lines(london) == [
        "3 readings missing on channel M1 (kWh) from 2026-03-29 00:00 (a.csv)"
    ]
    assert notes.lines(london, whole_label=True)[0].endswith("(sftp://host/in/a.csv)")
    notes.add(_gaps("M2", "h", list(range(10, 340, 11))).gaps(), r"C:\inbox\b.csv")  # 30 gaps
    assert len(notes) == 31 and len(notes.notes) == MAX_NOTES == MAX_LISTED  # capped as files
    lines = notes.lines(ZoneInfo("America/New_York"))
    assert lines[1] == "1 reading missing on channel M2 (kWh) from 2026-03-29 04:00 (b.csv)"
    assert lines[-1] == f"… and {31 - MAX_NOTES} more missing-readings warning(s)"


def test_the_job_store_keeps_the_last_runs_notes_and_reads_an_older_store(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as db:  # a store made before gaps were kept
        db.execute(
            "CREATE TABLE jobs (name TEXT PRIMARY KEY, kind TEXT NOT NULL, config TEXT NOT NULL,"
            " interval_s INTEGER NOT NULL, paused INTEGER NOT NULL DEFAULT 0, next_run TEXT NOT"
            " NULL, last_start TEXT, last_end TEXT, last_status TEXT, last_message TEXT)"
        )
        db.execute(
            "INSERT INTO jobs VALUES ('old', 'sftp', '{}', 900, 0, ?, NULL, NULL, 'ok', 'fine')",
            (NOW.isoformat(),),
        )
    store = JobStore(path)
    assert len(store.get("old").last_gaps) == 0
    notes = GapNotes()
    notes.add(_gaps("M1", "15min", [100, 101]).gaps(), "a.csv")
    store.record_run(
        "old", NOW, NOW + timedelta(seconds=3), JobOutcome(True, "1 new files", gaps=notes)
    )
    kept = store.get("old").last_gaps
    assert kept == notes and kept.lines(UTC) == [
        "2 readings missing on channel M1 (kWh) from 2026-03-29 23:00 (a.csv)"
    ]
    store.record_waiting("old", NOW, "waiting for the network")  # the last run's notes stay
    assert store.get("old").last_gaps == notes
    store.record_run("old", NOW, NOW, JobOutcome(True, "0 new files"))  # a clean run clears them
    assert len(store.get("old").last_gaps) == 0
    with sqlite3.connect(path) as db:  # hand-edited: not JSON, or not notes
        db.execute("UPDATE jobs SET last_gaps='{not json'")
    assert len(store.get("old").last_gaps) == 0
    assert len(GapNotes.from_json({"notes": [{"file": "a"}, 3], "more": "x"})) == 0
