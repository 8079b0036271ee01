"""The EnergyCAP client against the fake EnergyCAP on loopback: retries, auth, failures, tasks."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from app.core.energycap.client import (
    ApiError,
    AuthError,
    EnergyCapClient,
    EnergyCapError,
    InvalidUrlError,
    RetryPolicy,
    TransientError,
    normalise_url,
)
from app.core.energycap.exporter import api_batches, import_files
from app.core.energycap.retry import parse_retry_after
from app.core.mapping import apply_mapping, parse_mapping_csv
from connectors.base import make_readings
from tests.fakes.energycap import FakeChannel, FakeEnergyCap

KEY = "test-key-0123456789"
TIMES = pd.date_range("2024-10-27T00:30Z", periods=4, freq="30min", tz="UTC")


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    with FakeEnergyCap(api_key=KEY) as server:
        server.add_meter(
            1, "M1", [FakeChannel(11, "C11", "Use", "kWh", 1800)], time_zone="Europe/London"
        )
        yield server


class Sleeps(list[float]):
    """A `sleep` that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(
    fake: FakeEnergyCap, sleeps: Sleeps, key: str = KEY, **kw: object
) -> EnergyCapClient:
    retry = kw.pop("retry", RetryPolicy(max_attempts=4, base_s=0.5, cap_s=2.0))
    return EnergyCapClient(fake.url, key, sleep=sleeps, retry=retry, **kw)  # type: ignore[arg-type]


def body(values: list[float], source: str = "M1") -> list[dict]:
    frame = make_readings(
        source_id=source,
        time=TIMES[: len(values)],
        value=values,
        interval_s=1800,
        origin=[f"f.csv:{n}:2" for n in range(2, 2 + len(values))],
    )
    mapped = apply_mapping(frame, parse_mapping_csv("source_id,meter_import_id\n"))
    return next(iter(api_batches(mapped, api="readings"))).body


def test_readings_arrive_at_their_utc_instants_with_key_and_json_headers(
    fake: FakeEnergyCap,
) -> None:
    result = client_for(fake, Sleeps()).post_readings(body([1.5, 2.5, 3.5, 4.5]), "readings")
    assert (result.imported, result.failed, result.failures) == (4, 0, [])
    stored = fake.readings_for(11)
    assert list(stored["time"]) == list(TIMES)
    assert stored["value"].tolist() == [1.5, 2.5, 3.5, 4.5]
    (request,) = [r for r in fake.requests if r.path == "/api/v3/reading"]
    assert request.key_ok
    assert request.headers.get("content-type", "").startswith("application/json")


def test_429_honours_retry_after(fake: FakeEnergyCap) -> None:
    fake.inject("/api/v3/reading", status=429, times=2, retry_after=7)
    sleeps = Sleeps()
    result = client_for(fake, sleeps).post_readings(body([1.0]), "readings")
    assert result.imported == 1
    assert sleeps == [7.0, 7.0]


def test_503_then_success_backs_off_with_jitter_within_the_cap(fake: FakeEnergyCap) -> None:
    fake.inject("/api/v3/reading", status=503, times=3)
    sleeps = Sleeps()
    result = client_for(fake, sleeps).post_readings(body([1.0, 2.0]), "readings")
    assert result.imported == 2
    assert len(sleeps) == 3
    assert all(0.0 <= s <= c for s, c in zip(sleeps, [0.5, 1.0, 2.0], strict=True))
    assert fake.readings_for(11)["value"].tolist() == [1.0, 2.0]


def test_dropped_connection_is_retried(fake: FakeEnergyCap) -> None:
    fake.inject("/api/v3/reading", drop=True, times=1)
    sleeps = Sleeps()
    result = client_for(fake, sleeps).post_readings(body([3.0]), "readings")
    assert result.imported == 1 and len(sleeps) == 1


def test_timeout_is_retried(fake: FakeEnergyCap) -> None:
    fake.inject("/api/v3/timezone", status=None, delay_s=1.0, times=1)
    sleeps = Sleeps()
    client = client_for(fake, sleeps, timeout_s=0.2)
    assert client.time_zones()
    assert len(sleeps) == 1


def test_retries_run_out_with_a_transient_error(fake: FakeEnergyCap) -> None:
    fake.outage("/api/v3/reading", status=502)
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="after 4 attempts") as info:
        client_for(fake, sleeps).post_readings(body([1.0]), "readings")
    assert len(sleeps) == 3
    assert KEY not in str(info.value)
    assert fake.readings().empty


def test_wrong_key_is_an_auth_error_naming_the_host_not_the_key(fake: FakeEnergyCap) -> None:
    sleeps = Sleeps()
    with pytest.raises(AuthError) as info:
        client_for(fake, sleeps, key="wrong-key-xyz").check()
    message = str(info.value)
    assert "API key or the host is wrong" in message
    assert fake.url.removeprefix("http://") in message
    assert "wrong-key-xyz" not in message and KEY not in message
    assert sleeps == []


def test_failed_readings_in_a_200_are_surfaced_per_channel(fake: FakeEnergyCap) -> None:
    fake.reject_values_above = 100.0
    items = body([1.0, 500.0, 2.0]) + body([9.0], source="NO-SUCH-METER")
    result = client_for(fake, Sleeps()).post_readings(items, "readings")
    assert result.imported == 2
    assert result.failed == 2
    by_meter = {f.target.get("meterImportId"): f for f in result.failures}
    assert [r["value"] for r in by_meter["M1"].readings] == [500.0]
    assert by_meter["M1"].readings[0]["error"]
    assert by_meter["NO-SUCH-METER"].readings[0]["error"] or by_meter["NO-SUCH-METER"].error
    assert fake.readings_for(11)["value"].tolist() == [1.0, 2.0]


def test_other_4xx_is_an_api_error_with_energycaps_message(fake: FakeEnergyCap) -> None:
    with pytest.raises(ApiError) as info:
        client_for(fake, Sleeps()).post_readings([{"meterImportId": "M1"}], "readings")
    assert info.value.status == 400
    assert "readings" in str(info.value).lower()


def test_utc_zone_id_is_looked_up(fake: FakeEnergyCap) -> None:
    client = client_for(fake, Sleeps())
    zones = client.time_zones()
    (utc,) = [z for z in zones if z["timeZoneCode"] == "UTC"]
    assert client.utc_time_zone_id() == utc["timeZoneId"]


def import_file(values: list[float]) -> tuple[bytes, dict]:
    frame = make_readings(source_id="M1", time=TIMES[: len(values)], value=values, interval_s=1800)
    mapped = apply_mapping(frame, parse_mapping_csv("source_id,meter_import_id\n"))
    (only,) = import_files(mapped)
    return only.data, only.profile


def test_import_task_succeeds_and_readings_arrive(fake: FakeEnergyCap) -> None:
    client = client_for(fake, Sleeps())
    data, profile = import_file([1.0, 2.0, 3.0])
    profile["timeZoneId"] = client.utc_time_zone_id()
    task = client.wait_task(client.start_import(data, profile, note="test"), poll_s=0.01)
    assert task.ended and task.succeeded and task.error_output is None
    assert fake.readings_for(11)["value"].tolist() == [1.0, 2.0, 3.0]
    assert list(fake.readings_for(11)["time"]) == list(TIMES[:3])


def test_import_task_with_errors_fetches_error_output(fake: FakeEnergyCap) -> None:
    fake.reject_values_above = 100.0
    client = client_for(fake, Sleeps())
    data, profile = import_file([1.0, 500.0])
    task = client.wait_task(client.start_import(data, profile), poll_s=0.01)
    assert task.ended and not task.succeeded
    assert task.success_count == 1
    assert task.error_output and "Line 3" in task.error_output


def test_retry_after_as_http_date_and_full_jitter_bounds() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("soon") is None
    policy = RetryPolicy(base_s=1.0, cap_s=10.0)
    rng = random.Random(1)
    waits = [policy.backoff(6, rng) for _ in range(200)]
    assert max(waits) <= 10.0 and min(waits) >= 0.0 and max(waits) > 5.0


def test_urls_https_only_except_loopback() -> None:
    assert normalise_url("app.energycap.com/") == "https://app.energycap.com"
    assert normalise_url("https://implement.energycap.com/api/v3") == (
        "https://implement.energycap.com"
    )
    assert normalise_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    with pytest.raises(InvalidUrlError, match="https"):
        normalise_url("http://app.energycap.com")


class HtmlPage(BaseHTTPRequestHandler):
    """A web server that is not EnergyCAP (a portal page answers everything)."""

    def do_GET(self) -> None:
        body = b"<html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def test_a_host_that_is_not_energycap_is_named() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = EnergyCapClient(f"http://127.0.0.1:{server.server_address[1]}", KEY)
        with pytest.raises(EnergyCapError, match="not JSON; is the host right"):
            client.check()
    finally:
        server.shutdown()
        server.server_close()
