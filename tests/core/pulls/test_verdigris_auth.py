"""Verdigris tokens: reuse until expiry, keyring or 0600 file, never the secret; 429 waits; DST."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.pulls.bookmarks import Bookmarks
from app.core.pulls.verdigris_auth import (
    FileTokenCache,
    KeyringTokenCache,
    VerdigrisAuth,
    build_auth,
    default_cache,
    shared_rate,
)
from app.core.pulls.verdigris_pull import VerdigrisConfig, pull_verdigris
from app.core.secrets import SecretStore
from connectors.base import ReadingBatch, concat_batches
from connectors.verdigris.api import RateLimiter, VerdigrisApi, VerdigrisError, limiter_for
from connectors.verdigris.grid import Request
from tests.fakes.memory_keyring import MemoryKeyring, installed
from tests.fakes.verdigris import FakeVerdigris

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture
def fake() -> Iterator[FakeVerdigris]:
    with FakeVerdigris() as server:
        yield server


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with installed() as backend:
        yield backend


def test_keyring_holds_the_token_not_the_secret(
    fake: FakeVerdigris, memory_keyring: MemoryKeyring, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("VERDIGRIS_CLIENT_SECRET", fake.client_secret)
    assert isinstance(default_cache(tmp_path, SecretStore()), KeyringTokenCache)
    for _ in range(3):  # three "processes": fresh objects over the same keyring
        auth = build_auth(fake.client_id, tmp_path, auth_url=fake.token_url)
        VerdigrisApi(fake.url, auth).buildings()
    assert len(fake.token_times) == 1
    assert fake.token_bodies == [FORM]  # RFC 6749's encoding, by default
    stored = "".join(memory_keyring.store.values())
    assert "access_token" in stored and fake.client_secret not in stored
    assert not (tmp_path / "verdigris-token.json").exists()


def test_a_keyring_refusing_long_entries_falls_back_to_the_file(
    fake: FakeVerdigris, memory_keyring: MemoryKeyring, tmp_path: Path, monkeypatch
) -> None:
    def refuse(service: str, username: str, password: str) -> None:
        raise OSError("(1783, 'CredWrite', 'The stub received bad data.')")  # Windows, > 2560 B

    monkeypatch.setattr(memory_keyring, "set_password", refuse)
    monkeypatch.setenv("VERDIGRIS_CLIENT_SECRET", fake.client_secret)
    for _ in range(2):
        auth = build_auth(fake.client_id, tmp_path, auth_url=fake.token_url)
        VerdigrisApi(fake.url, auth).buildings()
    assert len(fake.token_times) == 1
    assert fake.client_secret not in (tmp_path / "verdigris-token.json").read_text()


def test_each_client_may_have_its_own_secret(
    fake: FakeVerdigris, memory_keyring: MemoryKeyring, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("VERDIGRIS_CLIENT_SECRET", raising=False)
    SecretStore().set("verdigris-client-secret", "another-accounts-secret")
    SecretStore().set(f"verdigris-client-secret:{fake.client_id}", fake.client_secret)
    auth = build_auth(fake.client_id, tmp_path, auth_url=fake.token_url)
    assert VerdigrisApi(fake.url, auth).buildings()["data"]


def test_expired_token_is_replaced(fake: FakeVerdigris, tmp_path: Path) -> None:
    now = [datetime.now(UTC)]
    cache = FileTokenCache(tmp_path / "t.json")

    def auth() -> VerdigrisAuth:
        return VerdigrisAuth(fake.client_id, lambda: fake.client_secret, cache,
                             auth_url=fake.token_url, clock=lambda: now[0])  # fmt: skip

    first = auth()()
    now[0] += timedelta(minutes=50)
    assert auth()() == first  # still valid
    now[0] += timedelta(minutes=9)  # within two minutes of expiry: renewed
    assert auth()() != first
    assert len(fake.token_times) == 2


def test_429_is_waited_out(fake: FakeVerdigris, tmp_path: Path) -> None:
    """A client allowed 12/s meets the fake's 5/s limit, waits and still gets everything."""
    auth = VerdigrisAuth(fake.client_id, lambda: fake.client_secret,
                         FileTokenCache(tmp_path / "t.json"), auth_url=fake.token_url)  # fmt: skip
    api = VerdigrisApi(fake.url, auth, limiter=RateLimiter(rate=12))
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for hour in range(8):
        moment = start + timedelta(hours=hour)
        rows = api.data(
            Request("energy", "circuit", ("100",), moment, moment + timedelta(hours=1)), "15m"
        )
        assert len(rows) == 4
    assert 429 in fake.statuses


@pytest.mark.parametrize(
    ("since", "until", "hours"),
    [  # wall clocks show 6 and 3 hours; real time is 5 and 4
        ("2026-03-28T23:00:00+00:00", "2026-03-29T05:00:00+01:00", 5),  # London springs forward
        ("2026-11-01T00:00:00-04:00", "2026-11-01T03:00:00-05:00", 4),  # New York falls back
    ],
)
def test_clock_change_days_every_hour_once(
    fake: FakeVerdigris, tmp_path: Path, since: str, until: str, hours: int
) -> None:
    config = VerdigrisConfig(client_id=fake.client_id, circuits=["100"], kinds=["energy"],
                             interval="15m")  # fmt: skip
    auth = VerdigrisAuth(fake.client_id, lambda: fake.client_secret,
                         FileTokenCache(tmp_path / "t.json"), auth_url=fake.token_url,
                         limiter=limiter_for(fake.url))  # fmt: skip
    got: list[ReadingBatch] = []
    start, end = datetime.fromisoformat(since), datetime.fromisoformat(until)
    pull_verdigris(config, VerdigrisApi(fake.url, auth), Bookmarks(tmp_path / "b.sqlite3"),
                   got.append, now=datetime.now(UTC), since=start, until=end)  # fmt: skip
    times = list(concat_batches(got).readings["time"])
    assert len(times) == 4 * hours
    assert times[0] == start + timedelta(minutes=15) and times[-1] == end
    assert len(set(times)) == len(times)


def test_back_to_back_processes_share_the_rate(fake: FakeVerdigris, tmp_path: Path) -> None:
    """Two runs with their own limiters (as two processes) stay within 5/s together."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for _run in range(2):
        cache, limiter = FileTokenCache(tmp_path / "t.json"), RateLimiter()
        auth = VerdigrisAuth(fake.client_id, lambda: fake.client_secret, cache,
                             auth_url=fake.token_url, limiter=limiter)  # fmt: skip
        api = VerdigrisApi(fake.url, auth, limiter=limiter)
        with shared_rate(api, tmp_path / "verdigris-requests.json"):
            for hour in range(5):
                moment = start + timedelta(hours=hour)
                api.data(
                    Request("power", "circuit", ("101",), moment, moment + timedelta(hours=1)),
                    "15m",
                )
    assert set(fake.statuses) == {200}
    assert len(fake.data_requests) == 10


def _auth(fake: FakeVerdigris, tmp_path: Path) -> VerdigrisAuth:
    cache = FileTokenCache(tmp_path / "verdigris-token.json")
    return VerdigrisAuth(fake.client_id, lambda: fake.client_secret, cache, auth_url=fake.token_url)


def test_a_form_only_endpoint_gets_the_form(fake: FakeVerdigris, tmp_path: Path) -> None:
    fake.token_formats = frozenset({"form"})
    VerdigrisApi(fake.url, _auth(fake, tmp_path)).buildings()
    assert fake.token_bodies == [FORM]
    assert '"body": "form"' in (tmp_path / "verdigris-token.json").read_text()


@pytest.mark.parametrize("status", [400, 415])
def test_a_json_only_endpoint_is_asked_again_as_json_and_that_is_remembered(
    fake: FakeVerdigris, tmp_path: Path, status: int
) -> None:
    fake.token_formats, fake.token_format_status = frozenset({"json"}), status
    VerdigrisApi(fake.url, _auth(fake, tmp_path)).buildings()
    assert fake.token_bodies == [FORM, JSON]
    cached = (tmp_path / "verdigris-token.json").read_text()
    assert '"body": "json"' in cached and fake.client_secret not in cached
    fake.revoke_tokens()  # the next call gets 401: a new token, asked as JSON straight away
    VerdigrisApi(fake.url, _auth(fake, tmp_path)).buildings()
    assert fake.token_bodies == [FORM, JSON, JSON]


def test_refused_credentials_are_not_retried_in_another_encoding(
    fake: FakeVerdigris, tmp_path: Path
) -> None:
    cache = FileTokenCache(tmp_path / "verdigris-token.json")
    auth = VerdigrisAuth(fake.client_id, lambda: "wrong", cache, auth_url=fake.token_url)
    with pytest.raises(VerdigrisError, match="refused the client id or client secret"):
        auth()
    assert fake.token_bodies == [FORM]
