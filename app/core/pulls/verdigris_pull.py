"""One Verdigris pull: configured channels, bookmark gaps newest first, submit, mark.

Each run pulls every configured channel (``energy`` and ``power`` of the
chosen circuits and breakers) from its bookmark to the last complete bucket.
A channel never pulled starts `backfill_days` back; after an outage the gap
is filled newest first; a window's bookmark moves only after `submit` has
returned for it (by then its readings are committed to the journal, or
written to the outbox), so an interrupted run resumes without losing anything.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from queue import Full, Queue
from typing import Any, TypeVar

from app.core.error_kinds import UNREACHABLE
from app.core.pulls.bookmarks import Bookmarks, Span
from app.core.pulls.gap_notes import GapNotes
from connectors.base import ReadingBatch, SourceError, concat_batches
from connectors.verdigris.api import (
    DEFAULT_API_URL,
    DEFAULT_AUDIENCE,
    DEFAULT_AUTH_URL,
    VerdigrisApi,
    VerdigrisError,
    check_url,
    request_token,
)
from connectors.verdigris.connector import DataApi, fetch, plan, source_id
from connectors.verdigris.grid import STEPS, Grid, Request, make_grid
from connectors.verdigris.listing import Node, building_tree

T = TypeVar("T")
SUBMIT_ROWS = 20_000  # windows are handed on together up to this many readings


def meta(label: str, help: str = "") -> dict[str, str]:
    """Field metadata for a generated settings form."""
    return {"label": label, "help": help}


@dataclass
class VerdigrisConfig:
    """A saved Verdigris pull (no secret: the client secret lives in the keyring)."""

    client_id: str = field(default="", metadata=meta("Client id"))
    circuits: list[str] = field(default_factory=list, metadata=meta("Circuit ids"))
    breakers: list[str] = field(default_factory=list, metadata=meta("Breaker ids"))
    interval: str = field(default="15m", metadata=meta("Interval", "1m, 15m, 1h or 1d"))
    timezone: str = field(
        default="", metadata=meta("Building time zone", "IANA; for 1d (else from Verdigris)")
    )
    kinds: list[str] = field(
        default_factory=lambda: ["energy", "power"], metadata=meta("Data", "energy (kWh), power")
    )
    auth_url: str = field(default=DEFAULT_AUTH_URL, metadata=meta("Token endpoint"))
    audience: str = field(default=DEFAULT_AUDIENCE, metadata=meta("Token audience"))
    api_url: str = field(default=DEFAULT_API_URL, metadata=meta("API base URL"))
    bucket_label: str = field(
        default="start",
        metadata=meta("Verdigris timestamps mark", "start (default) or end of each bucket"),
    )
    backfill_days: int = field(default=7, metadata=meta("First pull goes back (days)"))
    late_hours: int = field(
        default=24,
        metadata=meta(
            "Late data window (h)", "buckets this recent that came back empty are asked again"
        ),
    )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerdigrisConfig:
        """Build from saved JSON, ignoring unknown keys."""
        settings = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**settings)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for the job store."""
        return asdict(self)

    def validate(self) -> None:
        """Check the configuration before it is saved or used.

        Raises:
            SourceError: naming the first wrong setting.
        """
        if self.interval not in STEPS:
            make_grid(self.interval)  # raises, naming the intervals
        if self.timezone:
            make_grid("1d", self.timezone)  # raises for an unknown zone
        if self.bucket_label not in ("start", "end"):
            raise SourceError(f"bucket label must be start or end, not {self.bucket_label!r}")
        unknown = [k for k in self.kinds if k not in ("energy", "power")]
        if unknown or not self.kinds:
            raise SourceError(f"data kinds are energy and/or power, not {unknown or 'none'}")
        if not any(ids for _, ids in self.channels()):
            raise SourceError("no Verdigris circuits or breakers are configured")
        if self.backfill_days < 0 or self.late_hours < 0:
            raise SourceError("backfill days and late hours cannot be negative")
        check_url(self.auth_url, "the Verdigris token endpoint")
        check_url(self.api_url, "the Verdigris API URL")

    def channels(self) -> list[tuple[str, list[str]]]:
        """(level, ids) pairs configured."""
        return [(lvl, ids) for lvl, ids in (("circuit", self.circuits), ("breaker", self.breakers))]


@dataclass
class PullReport:
    """What a pull did."""

    readings: int = 0
    requests: int = 0
    windows: list[tuple[str, datetime, datetime]] = field(default_factory=list)
    gap_notes: GapNotes = field(default_factory=GapNotes)  # readings missing (runner's check)


Submit = Callable[[ReadingBatch], Any]


def last_complete(now: datetime, grid: Grid) -> datetime:
    """End of the newest bucket that is complete at `now`."""
    return grid.floor(now)


def bookmark_key(kind: str, level: str, ident: str, interval: str) -> str:
    """The bookmark channel name: ``energy@15m verdigris:circuit:123``.

    The interval is part of it: data pulled at 1h does not cover a 15m channel.
    """
    return f"{kind}@{interval} {source_id(level, ident)}"


def pull_verdigris(
    config: VerdigrisConfig,
    api: DataApi,
    bookmarks: Bookmarks,
    submit: Submit,
    *,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    submit_rows: int = SUBMIT_ROWS,
) -> PullReport:
    """Pull every configured channel's gaps, newest first, submitting each window.

    With `since`, [since, until) is pulled whole (bookmarks ignored but still
    moved); otherwise each channel's uncovered spans are pulled.

    Raises:
        SourceError / VerdigrisError: configuration or API errors, in plain words.
    """
    config.validate()
    grid = make_grid(config.interval, config.timezone)
    end = last_complete(min(until or now, now), grid)
    report = PullReport()
    requests: list[Request] = []
    for kind in config.kinds:
        for level, ids in config.channels():
            for gaps, group in _group_by_gaps(bookmarks, kind, level, ids, config, end, since):
                for start, stop in gaps:
                    window = Request(kind, level, tuple(group), grid.floor(start), grid.ceil(stop))
                    requests += plan(window, grid)
    requests.sort(key=lambda r: r.end, reverse=True)  # newest first across every channel
    settle = grid.floor(now - timedelta(hours=config.late_hours))
    _WindowDelivery(api, bookmarks, submit, report, config, grid, settle, submit_rows).pull(
        requests
    )
    return report


def _group_by_gaps(
    bookmarks: Bookmarks,
    kind: str,
    level: str,
    ids: list[str],
    config: VerdigrisConfig,
    end: datetime,
    since: datetime | None,
) -> list[tuple[tuple[Span, ...], list[str]]]:
    """Channels sharing the same gaps are requested together."""
    grid = make_grid(config.interval, config.timezone)
    default_start = grid.floor(end - timedelta(days=config.backfill_days))
    groups: dict[tuple[Span, ...], list[str]] = defaultdict(list)
    for ident in dict.fromkeys(ids):
        key = bookmark_key(kind, level, ident, config.interval)
        if since is not None:
            gaps: tuple[Span, ...] = ((grid.floor(since), end),) if since < end else ()
        else:
            spans = bookmarks.spans(key)
            start = min(spans[0][0], default_start) if spans else default_start
            gaps = tuple(bookmarks.gaps(key, start, end))
        if gaps:
            groups[gaps].append(ident)
    return sorted(groups.items(), key=lambda item: -item[0][0][1].timestamp())


@dataclass
class _WindowDelivery:
    """Fetches the planned windows, delivers their readings and moves the bookmarks."""

    api: DataApi
    bookmarks: Bookmarks
    submit: Submit
    report: PullReport
    config: VerdigrisConfig
    grid: Grid
    settle: datetime  # empty buckets newer than this are asked for again next run
    submit_rows: int = SUBMIT_ROWS

    def pull(self, requests: list[Request]) -> None:
        """Fetch the requests in order; deliver in batches, then move their bookmarks."""
        label = self.config.bucket_label
        batches = (fetch(self.api, r, self.grid, label) for r in requests)
        buffer: list[ReadingBatch] = []
        try:
            for batch in prefetch(batches):  # the next requests wait out the rate limit meanwhile
                buffer.append(batch)
                if sum(len(b.readings) for b in buffer) >= self.submit_rows:
                    pending, buffer = buffer, []
                    self._flush(pending)
        except SourceError:  # Verdigris failed: what arrived before is still delivered
            self._flush(buffer)
            raise
        self._flush(buffer)

    def _flush(self, buffer: list[ReadingBatch]) -> None:
        """Submit buffered windows as one batch, then move their bookmarks."""
        if not buffer:
            return
        self.submit(concat_batches(buffer))
        for batch in buffer:
            self._mark(batch)

    def _mark(self, batch: ReadingBatch) -> None:
        request: Request = batch.info["request"]
        kind, level = request.kind, request.level
        frame = batch.readings
        newest = frame.groupby(frame["source_id"].astype(str))["time"].max().to_dict()
        spans = []
        for ident in request.ids:
            last = newest.get(source_id(level, ident))
            cut = request.end
            if request.end > self.settle:  # recent: trailing empty buckets may still come
                arrived = last.to_pydatetime() if last is not None else request.start
                cut = min(request.end, max(arrived, self.settle, request.start))
            key = bookmark_key(kind, level, ident, self.config.interval)
            spans.append((key, request.start, cut))
        self.bookmarks.mark_many(spans)
        self.report.readings += len(frame)
        self.report.requests += 1
        self.report.windows.append((kind, request.start, request.end))


_DONE = object()


def prefetch(items: Iterator[T], depth: int = 8) -> Iterator[T]:
    """Yield `items` in order while a thread fetches up to `depth` ahead.

    The consumer's work (delivery) overlaps the producer's waiting (rate
    limit, network). A producer error is raised in the consumer at its place
    in the sequence; a consumer that stops early stops the producer.
    """
    queue: Queue[Any] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(queue, item, stop):
                    return
            _put(queue, _DONE, stop)
        except BaseException as exc:  # handed to the consumer, raised there
            _put(queue, _Failure(exc), stop)

    thread = threading.Thread(target=produce, name="verdigris-prefetch", daemon=True)
    thread.start()
    try:
        while (item := queue.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=60)


@dataclass
class _Failure:
    error: BaseException


def _put(queue: Queue[Any], item: Any, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            queue.put(item, timeout=0.2)
            return True
        except Full:
            continue
    return False


def list_channels(
    client_id: str,
    secret: str,
    *,
    auth_url: str = DEFAULT_AUTH_URL,
    api_url: str = DEFAULT_API_URL,
    audience: str = DEFAULT_AUDIENCE,
) -> list[Node]:
    """The account's buildings → panels → breakers → circuits, with one token request.

    The setup wizard calls it to prove the credentials and offer the channels.

    Raises:
        VerdigrisError: wrong credentials, quota reached, Verdigris unreachable
            (in plain words; the secret is never in the message).
    """
    if not client_id.strip() or not secret:
        raise VerdigrisError("Enter the client id and client secret first.")
    try:
        token = request_token(auth_url, client_id.strip(), secret, audience=audience)
        document = VerdigrisApi(api_url, lambda _fresh: token.access_token).buildings()
    except VerdigrisError as exc:
        if exc.kind == UNREACHABLE:
            where = auth_url if "token endpoint" in str(exc) else api_url
            raise VerdigrisError(
                f"Verdigris cannot be reached at {where}: check the internet connection "
                "(or the proxy) and try again.",
                kind=UNREACHABLE,
            ) from exc
        raise
    if not isinstance(document, dict):
        raise VerdigrisError("Verdigris sent a building list meterbridge cannot read")
    return building_tree(document)


def utc(moment: datetime) -> datetime:
    """`moment` as aware UTC.

    Raises:
        ValueError: for a naive time.
    """
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no UTC offset; add Z or +01:00")
    return moment.astimezone(UTC)
