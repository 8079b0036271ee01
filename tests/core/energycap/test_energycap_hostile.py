"""The EnergyCAP client against a fake that does not behave: redirects, garbage, stalls."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app.core.energycap.client import (
    CancelledError,
    EnergyCapClient,
    RedirectError,
    RetryPolicy,
    normalise_url,
)
from app.core.energycap.retry import MAX_RETRY_AFTER_S, parse_retry_after
from tests.core.energycap.test_energycap_client import KEY, Sleeps, body
from tests.fakes.energycap import FakeChannel, FakeEnergyCap
from tests.fakes.recorder import Recorder


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        server.add_meter(1, "M1", [FakeChannel(11, "C11", "Use", "kWh", 1800)], "Europe/London")
        yield server


def client(fake: FakeEnergyCap, sleeps: Sleeps, **kw: object) -> EnergyCapClient:
    retry = RetryPolicy(max_attempts=4, base_s=0.5, cap_s=2.0)
    return EnergyCapClient(fake.url, KEY, sleep=sleeps, retry=retry, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_and_the_key_never_leaves(fake, status) -> None:
    with Recorder() as elsewhere:
        fake.hostile("redirect", value=f"{elsewhere.url}/api/v3/reading", status=status)
        with pytest.raises(RedirectError) as info:
            client(fake, Sleeps()).post_readings(body([1.0, 2.0]), "readings")
        assert elsewhere.seen == []  # nothing, so no ECI-ApiKey, reached the other host
    said = str(info.value)
    assert f"HTTP {status}" in said and elsewhere.url in said and KEY not in said
    assert fake.readings().empty


def test_a_redirect_while_checking_the_key_is_refused_too(fake) -> None:
    with Recorder() as elsewhere:
        fake.hostile("redirect", value=elsewhere.url + "/\x1b[31mred")
        with pytest.raises(RedirectError, match="never follows redirects") as info:
            client(fake, Sleeps()).check()
        assert elsewhere.seen == []
    assert "\x1b" not in str(info.value) and "\\x1b" in str(info.value)


@pytest.mark.parametrize("garbage", ["nan", "NaN", "inf", "-5", "1e400", "soon", "-0", "0x10"])
def test_garbage_retry_after_falls_back_to_the_normal_backoff(fake, garbage) -> None:
    fake.hostile("retry_after", "/api/v3/reading", times=2, value=garbage)
    sleeps = Sleeps()
    result = client(fake, sleeps).post_readings(body([1.0]), "readings")
    assert result.imported == 1 and result.accounted
    assert len(sleeps) == 2 and all(0.0 <= s <= 1.0 for s in sleeps)  # base 0.5, then 1.0


def test_a_retry_after_beyond_the_maximum_waits_the_maximum(fake) -> None:
    fake.hostile("retry_after", "/api/v3/reading", times=1, value="86400", status=503)
    sleeps = Sleeps()
    client(fake, sleeps).post_readings(body([1.0]), "readings")
    assert sleeps == [MAX_RETRY_AFTER_S] == [300.0]


def test_retry_after_is_parsed_strictly() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # past: no wait
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT") == MAX_RETRY_AFTER_S
    for garbage in ("nan", "inf", "-1", "1e400", "1_000", "", "  ", "9" * 400):
        assert parse_retry_after(garbage) is None


@pytest.mark.parametrize("mode", ["html", "truncated", "empty", "json_list"])
def test_an_answer_that_is_not_a_reading_response_accounts_for_nothing(fake, mode) -> None:
    fake.hostile(mode, "/api/v3/reading", times=1)
    result = client(fake, Sleeps()).post_readings(body([1.0, 2.0]), "readings")
    assert not result.accounted
    assert result.note and "200" in result.note


def test_an_answer_that_stalls_is_a_timeout_and_is_tried_again(fake) -> None:
    fake.hostile("stall", "/api/v3/reading", times=1, stall_s=3.0)
    sleeps = Sleeps()
    started = time.monotonic()
    result = client(fake, sleeps, timeout_s=0.3).post_readings(body([1.0]), "readings")
    assert time.monotonic() - started < 2.5
    assert result.accounted and result.imported == 1 and len(sleeps) == 1


def test_an_answer_cut_short_is_tried_again(fake) -> None:
    fake.hostile("cut", "/api/v3/reading", times=1)
    sleeps = Sleeps()
    result = client(fake, sleeps).post_readings(body([1.0]), "readings")
    assert result.accounted and result.imported == 1 and len(sleeps) == 1


def test_cancelling_ends_the_retry_wait_at_once(fake) -> None:
    fake.hostile("retry_after", "/api/v3/reading", value="300")
    stop: list[bool] = []

    def wait(seconds: float) -> None:
        stop.append(True)  # "Cancel" pressed while waiting

    retry = RetryPolicy(max_attempts=8, base_s=0.5, cap_s=2.0)
    api = EnergyCapClient(fake.url, KEY, sleep=wait, retry=retry, cancelled=lambda: bool(stop))
    with pytest.raises(CancelledError):
        api.post_readings(body([1.0]), "readings")
    assert len([r for r in fake.requests if r.path == "/api/v3/reading"]) == 1


def test_http_is_allowed_to_every_loopback_address_only() -> None:
    assert normalise_url("http://127.0.0.2:8080/api") == "http://127.0.0.2:8080"
    assert normalise_url("http://[::1]:8080") == "http://[::1]:8080"
    with pytest.raises(ValueError, match="https"):
        normalise_url("http://10.0.0.5")
