"""Errors say what kind of failure they are (app/core/error_kinds.py), from real failures."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.energycap.client import AuthError, EnergyCapClient, RetryPolicy, TransientError
from app.core.error_kinds import (
    KINDS,
    MISSING,
    OUTAGE,
    REFUSED,
    UNREACHABLE,
    kind_of,
)
from app.core.pulls.jobs import JobOutcome, JobStore
from app.core.pulls.sftp.connect import SftpConfig, SftpError, SftpFolder, verified_transport
from app.core.pulls.sftp.state import SftpState
from connectors.base import http_status_kind
from connectors.verdigris.api import VerdigrisError, request_token
from tests.fakes.energycap import FakeEnergyCap
from tests.fakes.fixtures import energycap  # noqa: F401
from tests.ports import free_port


@given(st.one_of(st.none(), st.integers(-1000, 1000)))
def test_every_http_status_has_a_known_kind_or_none(status: int | None) -> None:
    assert http_status_kind(status) in KINDS | {""}


def test_energycap_errors_say_refused_outage_or_not_reached(
    energycap: FakeEnergyCap,  # noqa: F811
) -> None:
    fast = RetryPolicy(max_attempts=2, base_s=0.0)
    with pytest.raises(AuthError) as refused:
        EnergyCapClient(energycap.url, "not-the-key", retry=fast).check()
    assert kind_of(refused.value) == REFUSED
    energycap.inject("/", status=503, times=None, retry_after=0)
    with pytest.raises(TransientError) as outage:
        EnergyCapClient(energycap.url, "test-key", retry=fast).check()
    assert kind_of(outage.value) == OUTAGE
    closed = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TransientError) as gone:
        EnergyCapClient(closed, "test-key", retry=fast).check()
    assert kind_of(gone.value) == UNREACHABLE


def test_sftp_and_verdigris_errors_say_not_reached(tmp_path: Path) -> None:
    port = free_port()
    config = SftpConfig(host="127.0.0.1", user="u", folders=[SftpFolder("/")], port=port)
    with pytest.raises(SftpError) as sftp:
        verified_transport(config, SftpState(tmp_path / "sftp.sqlite3"))
    assert kind_of(sftp.value) == UNREACHABLE
    with pytest.raises(VerdigrisError) as verdigris:
        request_token(f"http://127.0.0.1:{port}/oauth/token", "id", "secret", timeout_s=5)
    assert kind_of(verdigris.value) == UNREACHABLE
    assert kind_of(VerdigrisError("quota", status=429)) == OUTAGE


def test_standard_errors_get_their_kind_from_their_type(tmp_path: Path) -> None:
    with pytest.raises(OSError) as missing:
        (tmp_path / "gone.csv").read_text(encoding="utf-8")
    assert kind_of(missing.value) == MISSING
    assert kind_of(ValueError("a plain message")) == ""


def test_a_job_store_made_before_kinds_gains_the_column_and_keeps_its_runs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as db:  # the table as the previous version made it
        db.execute(
            "CREATE TABLE jobs (name TEXT PRIMARY KEY, kind TEXT NOT NULL, config TEXT NOT NULL,"
            " interval_s INTEGER NOT NULL, paused INTEGER NOT NULL DEFAULT 0, next_run TEXT"
            " NOT NULL, last_start TEXT, last_end TEXT, last_status TEXT, last_message TEXT,"
            " running_until TEXT)"
        )
        db.execute(
            "INSERT INTO jobs VALUES ('old', 'sftp', '{}', 3600, 0, ?, NULL, NULL, 'failed',"
            " 'cannot reach x', NULL)",
            (datetime.now(UTC).isoformat(),),
        )
    store = JobStore(path)
    assert store.get("old").last_kind is None  # recorded before kinds: read by its words
    now = datetime.now(UTC)
    store.record_run("old", now, now + timedelta(seconds=1),
                     JobOutcome(ok=False, message="cannot reach x", kind=UNREACHABLE))  # fmt: skip
    assert store.get("old").last_kind == UNREACHABLE
