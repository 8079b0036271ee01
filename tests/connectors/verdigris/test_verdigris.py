"""Verdigris against the loopback fake: tokens, limits, alignment, units, bookmarks, errors."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from app.core.pulls.bookmarks import Bookmarks
from app.core.pulls.verdigris_auth import FileTokenCache, VerdigrisAuth
from app.core.pulls.verdigris_pull import VerdigrisConfig, pull_verdigris
from connectors.base import ReadingBatch, SourceError, concat_batches
from connectors.verdigris.api import RateLimiter, VerdigrisApi, VerdigrisError, limiter_for
from connectors.verdigris.connector import plan, read_window
from connectors.verdigris.grid import Request, make_grid
from tests.fakes.verdigris import FakeVerdigris, energy_wh, power_w

NOW = datetime(2026, 11, 20, 10, 7, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeVerdigris:
    with FakeVerdigris(now=NOW) as server:
        yield server


def make_auth(fake: FakeVerdigris, cache_dir: Path, secret: str = "s3cret") -> VerdigrisAuth:
    return VerdigrisAuth(
        client_id=fake.client_id,
        secret=lambda: secret,
        cache=FileTokenCache(cache_dir / "verdigris-token.json"),
        auth_url=fake.token_url,
        limiter=limiter_for(fake.url),  # the fake counts token requests in its 5/s
    )


def make_api(fake: FakeVerdigris, cache_dir: Path) -> VerdigrisApi:
    return VerdigrisApi(fake.url, make_auth(fake, cache_dir))


def expected(ids: list[str], start: datetime, end: datetime, step: int) -> pd.DataFrame:
    """What the fake's value function says must arrive: source_id, quantity, time, value."""
    rows = []
    moment = start
    while moment < end:
        for ident in ids:
            t = moment + timedelta(seconds=step)
            rows.append(
                (f"verdigris:circuit:{ident}", "kWh", t, energy_wh(ident, moment, step) / 1000)
            )
            rows.append(
                (f"verdigris:circuit:{ident}", "kW", t, power_w(ident, moment, step) / 1000)
            )
        moment += timedelta(seconds=step)
    frame = pd.DataFrame(rows, columns=["source_id", "quantity", "time", "value"])
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame.sort_values(["source_id", "quantity", "time"]).reset_index(drop=True)


def as_compared(batches: list[ReadingBatch]) -> pd.DataFrame:
    got = concat_batches(batches).readings
    got = got[["source_id", "quantity", "time", "value"]].astype(
        {"source_id": str, "quantity": str}
    )
    got["time"] = got["time"].astype("datetime64[ns, UTC]")
    return got.sort_values(["source_id", "quantity", "time"]).reset_index(drop=True)


def test_30_days_of_40_circuits_three_runs_one_token(fake: FakeVerdigris, tmp_path: Path) -> None:
    """kWh and kW for 40 circuits over 30 days arrive exactly; no 422/429; one token."""
    config = VerdigrisConfig(
        client_id=fake.client_id, circuits=fake.circuits, interval="1h", backfill_days=30
    )
    marks = Bookmarks(tmp_path / "bookmarks.sqlite3")
    got: list[ReadingBatch] = []
    clock = NOW
    for _run in range(3):  # three runs, each with its own client objects
        fake.now = clock
        api = make_api(fake, tmp_path)
        pull_verdigris(config, api, marks, got.append, now=clock)
        clock += timedelta(hours=2)
    end = datetime(2026, 11, 20, 14, tzinfo=UTC)  # last complete hour of the third run
    start = datetime(2026, 11, 20, 10, tzinfo=UTC) - timedelta(days=30)
    want = expected(fake.circuits, start, end, 3600)
    assert len(want) == 40 * 2 * (30 * 24 + 4)
    pd.testing.assert_frame_equal(as_compared(got), want, check_dtype=False)
    assert set(fake.statuses) == {200}
    assert len(fake.token_times) == 1
    cache = tmp_path / "verdigris-token.json"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert "s3cret" not in cache.read_text()


def test_plan_respects_points_and_alignment() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = tuple(str(i) for i in range(40))
    window = Request("energy", "circuit", ids, start, start + timedelta(days=30))
    requests = plan(window, make_grid("15m"))
    assert all(len(r.ids) * (r.end - r.start) / timedelta(minutes=15) < 1500 for r in requests)
    assert requests[0].end == start + timedelta(days=30)  # newest window first
    covered = {(i, r.start) for r in requests for i in r.ids}
    assert len(covered) == len(requests)


def test_rows_sorted_and_gaps_not_zeros(fake: FakeVerdigris, tmp_path: Path) -> None:
    start = datetime(2026, 11, 19, tzinfo=UTC)
    fake.missing.add(("101", (start + timedelta(minutes=30)).isoformat()))
    batches = list(
        read_window(make_api(fake, tmp_path),
                    Request("energy", "circuit", ("101", "100"), start, start + timedelta(hours=2)),
                    make_grid("15m"))
    )  # fmt: skip
    frame = batches[0].readings
    assert frame["source_id"].is_monotonic_increasing
    assert frame.groupby("source_id")["time"].apply(lambda t: t.is_monotonic_increasing).all()
    assert len(frame) == 15  # 2 ids x 8 buckets, one missing
    first = frame.iloc[0]
    assert first["time"] == pd.Timestamp(start + timedelta(minutes=15))  # start + interval
    assert first["interval_s"] == 900 and first["unit"] == "kWh"


def test_unaligned_window_is_aligned_not_rejected(fake: FakeVerdigris, tmp_path: Path) -> None:
    start = datetime(2026, 11, 19, 3, 7, 12, tzinfo=UTC)
    window = Request("power", "circuit", ("100",), start, start + timedelta(minutes=50))
    list(read_window(make_api(fake, tmp_path), window, make_grid("15m")))
    assert 422 not in fake.statuses
    assert fake.data_requests[0]["start"] == datetime(2026, 11, 19, 3, 0, tzinfo=UTC)


def test_bookmarks_backfill_newest_first_after_outage(fake: FakeVerdigris, tmp_path: Path) -> None:
    config = VerdigrisConfig(
        client_id=fake.client_id, circuits=["100"], interval="15m", backfill_days=1,
    )  # fmt: skip
    marks = Bookmarks(tmp_path / "b.sqlite3")
    api = make_api(fake, tmp_path)
    pull_verdigris(config, api, marks, lambda b: None, now=NOW - timedelta(days=40))
    fake.data_requests.clear()
    report = pull_verdigris(config, api, marks, lambda b: None, now=NOW)
    ends = [r["end"] for r in fake.data_requests]
    assert ends == sorted(ends, reverse=True)  # newest first, energy and power together
    assert [r["kind"] for r in fake.data_requests[:2]] == ["energy", "power"]
    assert fake.data_requests[-1]["start"] == datetime(2026, 10, 11, 10, 0, tzinfo=UTC)
    assert report.readings == 2 * 40 * 96
    fake.data_requests.clear()
    assert pull_verdigris(config, api, marks, lambda b: None, now=NOW).readings == 0
    assert fake.data_requests == []


def test_late_data_is_asked_again(fake: FakeVerdigris, tmp_path: Path) -> None:
    """Buckets still empty at the first run (data lag) arrive with the next one."""
    config = VerdigrisConfig(client_id=fake.client_id, circuits=["100"], kinds=["energy"],
                             interval="15m", backfill_days=1)  # fmt: skip
    marks = Bookmarks(tmp_path / "b.sqlite3")
    api = make_api(fake, tmp_path)
    fake.now = NOW - timedelta(hours=1)  # Verdigris lags an hour behind
    first = pull_verdigris(config, api, marks, lambda b: None, now=NOW)
    fake.now = NOW
    second = pull_verdigris(config, api, marks, lambda b: None, now=NOW)
    assert (first.readings, second.readings) == (96 - 4, 4)


def test_interrupted_run_resumes_without_repulling(fake: FakeVerdigris, tmp_path: Path) -> None:
    config = VerdigrisConfig(client_id=fake.client_id, circuits=["100"], kinds=["energy"],
                             interval="1m", backfill_days=3)  # fmt: skip
    marks = Bookmarks(tmp_path / "b.sqlite3")
    api = make_api(fake, tmp_path)
    seen: list[ReadingBatch] = []

    def flaky(batch: ReadingBatch) -> None:
        if len(seen) == 1:
            raise ConnectionError("EnergyCAP unreachable")
        seen.append(batch)

    with pytest.raises(ConnectionError):
        pull_verdigris(config, api, marks, flaky, now=NOW, submit_rows=1000)
    pull_verdigris(config, api, marks, seen.append, now=NOW)
    got = concat_batches(seen).readings
    assert len(got) == 3 * 1440 and not got.duplicated(["source_id", "time"]).any()


def test_errors_in_plain_words(fake: FakeVerdigris, tmp_path: Path) -> None:
    api = make_api(fake, tmp_path)
    start = datetime(2026, 11, 19, tzinfo=UTC)
    minute, hour = timedelta(minutes=1), timedelta(hours=1)
    with pytest.raises(VerdigrisError, match=r"does not know these ids.*555"):
        api.data(Request("energy", "circuit", ("100", "555"), start, start + hour), "15m")
    with pytest.raises(VerdigrisError, match=r"422.*start_time.*not aligned"):
        api.data(Request("energy", "circuit", ("100",), start + minute, start + hour), "15m")
    bad = VerdigrisApi(fake.url, make_auth(fake, tmp_path / "other", secret="wrong"))
    with pytest.raises(VerdigrisError, match="client id or client secret") as info:
        bad.buildings()
    assert "wrong" not in str(info.value)


def test_revoked_token_is_renewed_once(fake: FakeVerdigris, tmp_path: Path) -> None:
    api = make_api(fake, tmp_path)
    api.buildings()
    fake.revoke_tokens()
    listing = api.buildings()
    assert listing["data"][0]["attributes"]["timezone"] == "America/Los_Angeles"
    assert len(fake.token_times) == 2


def test_token_quota_reached_is_explained(fake: FakeVerdigris, tmp_path: Path) -> None:
    fake.token_times.extend([datetime.now(UTC).timestamp()] * 20)
    with pytest.raises(VerdigrisError, match="20 token requests an hour"):
        make_api(fake, tmp_path).buildings()


def test_rate_limiter_keeps_five_per_second() -> None:
    limiter = RateLimiter()
    import time

    stamps = []
    for _ in range(12):
        limiter.wait()
        stamps.append(time.monotonic())
        time.sleep(0.01)  # the request's round trip
        limiter.done()
    assert all(b - a >= 1.0 for a, b in zip(stamps, stamps[5:], strict=False))
    assert stamps[4] - stamps[0] < 0.5  # the first five go at once


def test_bad_rows_are_named_and_html_is_refused(fake: FakeVerdigris, tmp_path: Path) -> None:
    start = datetime(2026, 11, 19, tzinfo=UTC)
    fake.extra_rows = [
        {"id": 100, "timestamp": "yesterday-ish", "energy": 5},
        {"id": 100, "timestamp": start.isoformat(), "energy": "12abc"},
        {"id": 100, "timestamp": start.isoformat(), "energy": None},  # a gap, not a problem
    ]
    api = make_api(fake, tmp_path)
    window = Request("energy", "circuit", ("100",), start, start + timedelta(hours=1))
    (batch,) = read_window(api, window, make_grid("15m"))
    assert len(batch.readings) == 4
    assert sorted(p.value[:40] for p in batch.problems) == [
        "{'id': 100, 'timestamp': '2026-11-19T00:",
        "{'id': 100, 'timestamp': 'yesterday-ish'",
    ]
    assert all("cannot be read" in p.message for p in batch.problems)
    fake.html_answers = 1
    with pytest.raises(VerdigrisError, match=r"not JSON.*502 Bad Gateway"):
        api.data(Request("energy", "circuit", ("100",), start, start + timedelta(hours=1)), "15m")


def test_prefetch_keeps_order_raises_in_place_and_stops_early() -> None:
    import threading

    from app.core.pulls.verdigris_pull import prefetch

    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))

    def failing():  # type: ignore[no-untyped-def]
        yield 1
        yield 2
        raise VerdigrisError("Verdigris answered HTTP 500")

    got = []
    with pytest.raises(VerdigrisError, match="500"):
        for item in prefetch(failing()):
            got.append(item)
    assert got == [1, 2]
    produced = []

    def endless():  # type: ignore[no-untyped-def]
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    before = threading.active_count()
    for item in prefetch(endless(), depth=2):
        if item == 3:
            break
    assert threading.active_count() == before  # the producer thread ended
    assert len(produced) <= 3 + 1 + 2 + 1  # consumed, in hand, queued, one blocked


def test_breakers_and_circuits_together(fake: FakeVerdigris, tmp_path: Path) -> None:
    config = VerdigrisConfig(client_id=fake.client_id, circuits=["100"], breakers=["900", "901"],
                             interval="1h", backfill_days=1)  # fmt: skip
    got: list[ReadingBatch] = []
    pull_verdigris(config, make_api(fake, tmp_path), Bookmarks(tmp_path / "b.sqlite3"),
                   got.append, now=NOW)  # fmt: skip
    frame = concat_batches(got).readings
    counts = frame.groupby(["source_id", "quantity"]).size().to_dict()
    assert counts == {
        (sid, q): 24
        for sid in ("verdigris:breaker:900", "verdigris:breaker:901", "verdigris:circuit:100")
        for q in ("kW", "kWh")
    }
    assert {r["kind"] for r in fake.data_requests} == {"energy", "power"}


def test_daily_buckets_follow_the_buildings_local_days(fake: FakeVerdigris, tmp_path: Path) -> None:
    """1d: local midnights of America/Los_Angeles, a 25-hour day when the clocks go back."""
    la = ZoneInfo("America/Los_Angeles")
    config = VerdigrisConfig(client_id=fake.client_id, circuits=["100"], kinds=["energy"],
                             interval="1d", timezone="America/Los_Angeles")  # fmt: skip
    got: list[ReadingBatch] = []
    since = datetime(2026, 10, 30, 12, tzinfo=la)  # mid-day: aligned down to midnight
    until = datetime(2026, 11, 3, tzinfo=la)
    pull_verdigris(config, make_api(fake, tmp_path), Bookmarks(tmp_path / "b.sqlite3"),
                   got.append, now=NOW, since=since, until=until)  # fmt: skip
    frame = concat_batches(got).readings
    ends = [t.tz_convert(la) for t in frame["time"]]
    assert [(t.day, t.hour) for t in ends] == [(31, 0), (1, 0), (2, 0), (3, 0)]
    assert list(frame["interval_s"]) == [86400, 86400, 90000, 86400]
    starts = [datetime(2026, 10, d, tzinfo=la) for d in (30, 31)] + [
        datetime(2026, 11, d, tzinfo=la) for d in (1, 2)
    ]
    want = [energy_wh("100", s, n) / 1000 for s, n in zip(starts, frame["interval_s"], strict=True)]
    assert list(frame["value"]) == want
    assert set(fake.statuses) == {200}


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/London", datetime(2026, 3, 29), 23),
        ("Europe/London", datetime(2026, 10, 25), 25),
        ("America/New_York", datetime(2026, 3, 8), 23),
        ("America/New_York", datetime(2026, 11, 1), 25),
    ],
)
def test_daily_grid_on_clock_change_days(zone: str, day: datetime, hours: int) -> None:
    grid = make_grid("1d", zone)
    tz = ZoneInfo(zone)
    midnight = day.replace(tzinfo=tz)
    noon = midnight + timedelta(hours=12)
    assert grid.floor(noon) == midnight
    assert grid.ceil(noon) == grid.add(midnight, 1)
    assert (grid.add(midnight, 1) - midnight) == timedelta(hours=hours)
    assert grid.count(midnight, grid.add(midnight, 3)) == 3
    with pytest.raises(SourceError, match="time zone"):
        make_grid("1d")


def test_rows_that_all_fall_outside_the_window_give_no_readings() -> None:
    """An edge bucket labelled by its end (the window's start) is outside: no readings, no crash."""
    from connectors.verdigris.connector import Request, to_readings

    start = datetime(2026, 11, 1, tzinfo=UTC)
    request = Request("energy", "circuit", ("7",), start, start + timedelta(hours=1))
    rows = [{"id": "7", "timestamp": start.isoformat(), "energy": 1000.0}]
    batch = to_readings(rows, request, make_grid("15m"), label="end")
    assert len(batch.readings) == 0
    assert batch.problems == []
