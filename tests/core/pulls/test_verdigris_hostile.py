"""Verdigris secrets stay home: https only (loopback http for tests), no redirects followed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.pulls.verdigris_auth import FileTokenCache, VerdigrisAuth
from app.core.pulls.verdigris_pull import VerdigrisConfig
from connectors.base import SourceError
from connectors.verdigris.api import (
    RateLimiter,
    VerdigrisApi,
    VerdigrisError,
    check_url,
    request_token,
)
from connectors.verdigris.grid import Request
from tests.fakes.recorder import Recorder
from tests.fakes.verdigris import FakeVerdigris


@pytest.fixture
def fake() -> Iterator[FakeVerdigris]:
    with FakeVerdigris() as server:
        yield server


def test_the_token_request_is_never_redirected_and_the_secret_never_reposted(fake) -> None:
    with Recorder() as elsewhere:
        fake.redirect_to = elsewhere.url
        with pytest.raises(VerdigrisError, match=r"redirect \(HTTP 307\)") as info:
            request_token(fake.token_url, fake.client_id, fake.client_secret)
        assert elsewhere.seen == []  # the client secret was posted to the fake only
    assert elsewhere.url in str(info.value) and fake.client_secret not in str(info.value)


def test_api_requests_are_never_redirected_and_the_token_stays_home(fake, tmp_path) -> None:
    auth = VerdigrisAuth(
        fake.client_id, lambda: fake.client_secret, FileTokenCache(tmp_path / "t.json"),
        auth_url=fake.token_url,
    )  # fmt: skip
    api = VerdigrisApi(fake.url, auth)
    api.buildings()  # a token is issued
    with Recorder() as elsewhere:
        fake.redirect_to = elsewhere.url
        with pytest.raises(VerdigrisError, match="never follows redirects"):
            api.buildings()
        assert elsewhere.seen == []


@pytest.mark.parametrize(
    "url",
    ["http://auth.example.com/oauth/token", "http://10.1.2.3/oauth/token", "ftp://x/y", "x"],
)
def test_plain_http_to_another_host_is_refused_before_anything_is_sent(url) -> None:
    with pytest.raises(VerdigrisError, match="https"):
        request_token(url, "client", "secret")
    with pytest.raises(VerdigrisError, match="https"):
        VerdigrisApi(url, lambda fresh: "t")
    config = VerdigrisConfig(client_id="c", circuits=["1"], auth_url=url)
    with pytest.raises(SourceError, match="https"):
        config.validate()


def test_https_anywhere_and_http_on_loopback_are_accepted() -> None:
    for url in ("https://auth.verdigris.co/oauth/token", "http://127.0.0.1:8080/t",
                "http://localhost/t", "http://127.5.6.7/t", "http://[::1]:9/t"):  # fmt: skip
        assert check_url(url, "the URL") == url


@pytest.mark.parametrize("garbage", ["nan", "-5"])
def test_garbage_retry_after_from_verdigris_waits_a_second(fake, tmp_path: Path, garbage) -> None:
    fake.retry_after = garbage
    waits: list[float] = []
    auth = VerdigrisAuth(
        fake.client_id, lambda: fake.client_secret, FileTokenCache(tmp_path / "t.json"),
        auth_url=fake.token_url,
    )  # fmt: skip

    def nap(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    api = VerdigrisApi(fake.url, auth, sleep=nap, limiter=RateLimiter(rate=100))
    end = datetime.fromtimestamp(time.time() // 900 * 900 - 3600, UTC)
    for _ in range(7):  # past 5 data requests a second the fake answers 429
        api.data(Request("energy", "circuit", ("100",), end - timedelta(hours=1), end), "15m")
    assert 429 in fake.statuses and waits and all(w == 1.0 for w in waits)
