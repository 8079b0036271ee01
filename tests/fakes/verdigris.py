"""A Verdigris API on loopback that enforces what the real one documents.

Token endpoint (``POST /oauth/token``) with a quota of 20 tokens an hour;
core listing (``GET /core/v1/buildings/?include=panels.breakers.circuits``,
JSON:API); data v4 (``GET /data/v4/{energy|power}/{level}s?ids=..``) that
demands a valid bearer token (401), known ids (404 ``invalidIds``), times
aligned to the interval and at most 1,500 points (422 ``errors``), at most 5
requests in any second (429), and answers rows in random order with bucket
**start** timestamps, Wh and W. Values are a pure function of (id, bucket),
see `energy_wh`, so tests compute what must arrive.
"""

from __future__ import annotations

import json
import random
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

INTERVALS = {"1m": 60, "15m": 900, "1h": 3600, "1d": 86400}
TOKEN_QUOTA = 20
MAX_POINTS = 1500
RATE = 5
BUILDING_ZONE = ZoneInfo("America/Los_Angeles")


def energy_wh(ident: str, start: datetime, interval_s: int) -> float:
    """The energy (Wh) the fake reports for a bucket starting at `start`."""
    slot = int(start.timestamp()) // interval_s
    return float((int(ident) % 13 + 1) * 10 * interval_s / 900 + slot % 7)


def power_w(ident: str, start: datetime, interval_s: int) -> float:
    """The mean power (W) of the bucket: its energy over its length."""
    return energy_wh(ident, start, interval_s) * 3600 / interval_s


@dataclass
class FakeVerdigris:
    """The fake server. Use as a context manager or call start/stop."""

    client_id: str = "client-1"
    client_secret: str = "s3cret"
    circuits: list[str] = field(default_factory=lambda: [str(i) for i in range(100, 140)])
    breakers: list[str] = field(default_factory=lambda: ["900", "901"])
    # Circuits of a second building ("Annex", Europe/London; panel 60, breaker 902), if any.
    annex_circuits: list[str] = field(default_factory=list)
    now: datetime | None = None  # data exists up to this time (None: the real clock)
    missing: set[tuple[str, str]] = field(default_factory=set)  # (id, iso start) never sent
    extra_rows: list[dict[str, Any]] = field(default_factory=list)  # sent with every answer
    html_answers: int = 0  # the next N data requests get a proxy's HTML page
    rate_counts_tokens: bool = True  # one server: token requests count in the 5/s too
    token_lifetime_s: int = 3600
    token_times: list[float] = field(default_factory=list)
    token_bodies: list[str] = field(default_factory=list)  # content types of token requests
    # Token bodies the endpoint reads (Auth0: both); another is refused with this status.
    token_formats: frozenset[str] = frozenset({"form", "json"})
    token_format_status: int = 415
    statuses: list[int] = field(default_factory=list)
    data_requests: list[dict[str, Any]] = field(default_factory=list)
    # Hostile: every request is redirected (307) to this base URL + its path.
    redirect_to: str | None = None
    retry_after: str = "1"  # the Retry-After of 429 answers ("nan", "-5" ...: hostile)

    def __post_init__(self) -> None:
        self._tokens: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------
    def start(self) -> FakeVerdigris:
        """Serve on 127.0.0.1 on a free port, in a thread."""
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeVerdigris:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API base URL."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return self.url + "/oauth/token"

    def revoke_tokens(self) -> None:
        """Forget every issued token (the next data call gets 401)."""
        self._tokens.clear()

    # -- behaviour -------------------------------------------------------
    def issue_token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer a token request."""
        with self._lock:
            now = time.time()
            self.token_times.append(now)
            if sum(1 for t in self.token_times if now - t < 3600) > TOKEN_QUOTA:
                return 429, {"error": "too_many_requests", "error_description": "quota"}
        good = (
            form.get("grant_type") == "client_credentials"
            and form.get("client_id") == self.client_id
            and form.get("client_secret") == self.client_secret
            and form.get("audience") == "https://api.verdigris.co/"
        )
        if not good:
            return 401, {"error": "access_denied", "error_description": "Unauthorized"}
        token = secrets.token_urlsafe(24)
        self._tokens[token] = time.time() + self.token_lifetime_s
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def authorised(self, header: str | None) -> bool:
        """Whether the Authorization header carries a live token."""
        token = (header or "").removeprefix("Bearer ").strip()
        return self._tokens.get(token, 0) > time.time()

    def rate_ok(self) -> bool:
        """Count a data request; False when it is the 6th in one second."""
        with self._lock:
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            self._recent.append(now)
            return len(self._recent) <= RATE

    def listing(self) -> dict[str, Any]:
        """The JSON:API document of one building with two panels."""
        breakers = [
            {"type": "breakers", "id": b, "attributes": {"name": f"Breaker {b}"},
             "relationships": {"circuits": {"data": [
                 {"type": "circuits", "id": c} for c in self.circuits[i::2]]}}}
            for i, b in enumerate(self.breakers)
        ]  # fmt: skip
        circuits = [
            {"type": "circuits", "id": c, "attributes": {"name": f"Circuit {c}", "type": "load"}}
            for c in self.circuits
        ]
        panels = [
            {"type": "panels", "id": "50", "attributes": {"name": "Main panel"},
             "relationships": {"breakers": {"data": [
                 {"type": "breakers", "id": b} for b in self.breakers]}}}
        ]  # fmt: skip
        building = {
            "type": "buildings", "id": "7",
            "attributes": {"name": "Head office", "timezone": str(BUILDING_ZONE)},
            "relationships": {"panels": {"data": [{"type": "panels", "id": "50"}]}},
        }  # fmt: skip
        document = {"data": [building], "included": panels + breakers + circuits}
        if self.annex_circuits:
            self._add_annex(document)
        return document

    def _add_annex(self, document: dict[str, Any]) -> None:
        """A second building in another zone, its circuits under one breaker."""
        circuits = [
            {"type": "circuits", "id": c, "attributes": {"name": f"Annex circuit {c}"}}
            for c in self.annex_circuits
        ]
        links = [{"type": "circuits", "id": c} for c in self.annex_circuits]
        breaker = {"type": "breakers", "id": "902", "attributes": {"name": "Annex breaker"},
                   "relationships": {"circuits": {"data": links}}}  # fmt: skip
        to_breaker = {"data": [{"type": "breakers", "id": "902"}]}
        panel = {"type": "panels", "id": "60", "attributes": {"name": "Annex panel"},
                 "relationships": {"breakers": to_breaker}}  # fmt: skip
        to_panel = {"data": [{"type": "panels", "id": "60"}]}
        building = {"type": "buildings", "id": "8",
                    "attributes": {"name": "Annex", "timezone": "Europe/London"},
                    "relationships": {"panels": to_panel}}  # fmt: skip
        document["data"].append(building)
        document["included"] += [panel, breaker, *circuits]

    def data(self, kind: str, level: str, query: dict[str, str]) -> tuple[int, Any]:
        """Answer a data v4 request."""
        known = [*self.circuits, *self.annex_circuits] if level == "circuits" else self.breakers
        ids = [i for i in query.get("ids", "").split(",") if i]
        invalid = [i for i in ids if i not in known]
        if kind not in ("energy", "power") or not ids or invalid:
            body = {"name": "NotFound", "message": "Not found", "status": 404}
            return 404, {**body, "invalidIds": invalid}
        errors = self._validate(query, len(ids))
        if errors:
            return 422, {"name": "Unprocessable", "status": 422, "errors": errors}
        step = INTERVALS[query["interval"]]
        start, end = _parse(query["start_time"]), _parse(query["end_time"])
        self.data_requests.append({"kind": kind, "ids": ids, "start": start, "end": end})
        return 200, self._rows(kind, ids, start, end, step, query)

    def _validate(self, query: dict[str, str], n_ids: int) -> list[dict[str, Any]]:
        step = INTERVALS.get(query.get("interval", ""))
        if step is None:
            return [_err("interval", query.get("interval"), "unknown interval")]
        try:
            start, end = _parse(query["start_time"]), _parse(query["end_time"])
        except (KeyError, ValueError):
            return [_err("start_time", query.get("start_time"), "bad or missing time")]
        errors = [
            _err(name, query[name], f"not aligned to {query['interval']}")
            for name, moment in (("start_time", start), ("end_time", end))
            if not _aligned(moment, step)
        ]
        points = n_ids * len(_buckets(start, end, step))
        if end <= start:
            errors.append(_err("end_time", query["end_time"], "must be after start_time"))
        if points > MAX_POINTS:
            errors.append(_err("ids", n_ids, f"{points} data points exceed {MAX_POINTS}"))
        return errors

    def _rows(
        self,
        kind: str,
        ids: list[str],
        start: datetime,
        end: datetime,
        step: int,
        q: dict[str, str],
    ) -> list[dict[str, Any]]:
        horizon = self.now or datetime.now(UTC)
        rows = []
        for moment, length in _buckets(start, end, step):
            if moment + timedelta(seconds=length) > horizon:
                break
            for ident in ids:
                if (ident, moment.isoformat()) in self.missing:
                    continue
                value = (energy_wh if kind == "energy" else power_w)(ident, moment, length)
                stamp: Any = (
                    moment.isoformat().replace("+00:00", "Z")
                    if q.get("timestamp_format") == "ISO8601"
                    else int(moment.timestamp() * 1000)
                )
                rows.append({"id": int(ident), "timestamp": stamp, kind: value})
        rows.extend(self.extra_rows)
        random.shuffle(rows)
        return rows


def _aligned(moment: datetime, step: int) -> bool:
    """Sub-day intervals align to the epoch; 1d to the building's local midnight."""
    if step < 86400:
        return int(moment.timestamp()) % step == 0
    return moment.astimezone(BUILDING_ZONE).time() == dtime(0)


def _buckets(start: datetime, end: datetime, step: int) -> list[tuple[datetime, int]]:
    """(start, length in seconds) of each bucket in [start, end)."""
    out = []
    moment = start
    while moment < end:
        if step < 86400:
            following = moment + timedelta(seconds=step)
        else:
            day = moment.astimezone(BUILDING_ZONE).date() + timedelta(days=1)
            following = datetime(day.year, day.month, day.day, tzinfo=BUILDING_ZONE)
            following = following.astimezone(UTC)
        out.append((moment, int((following - moment).total_seconds())))
        moment = following
    return out


def _err(param: str, value: Any, msg: str) -> dict[str, Any]:
    return {"location": "query", "param": param, "value": value, "msg": msg}


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return moment.astimezone(UTC)


class _Handler(BaseHTTPRequestHandler):
    owner: FakeVerdigris
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, status: int, body: Any) -> None:
        self.owner.statuses.append(status)
        data = json.dumps(body).encode()
        head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(data)}\r\n"
        head += f"Retry-After: {self.owner.retry_after}\r\n" if status == 429 else ""
        self.wfile.write(head.encode() + b"\r\n" + data)

    def _redirected(self) -> bool:
        """Hostile: send the client elsewhere (a 307 keeps the method and the body)."""
        if self.owner.redirect_to is None:
            return False
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        where = self.owner.redirect_to + self.path
        self.owner.statuses.append(307)
        head = f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {where}\r\nContent-Length: 0\r\n"
        self.wfile.write(head.encode() + b"\r\n")
        return True

    def do_POST(self) -> None:
        if self._redirected():
            return
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length).decode()
        kind = self.headers.get("Content-Type", "")
        self.owner.token_bodies.append(kind)
        if urlparse(self.path).path != "/oauth/token":
            self._answer(404, {"message": "no such endpoint"})
            return
        body = "json" if kind.startswith("application/json") else "form"
        if body not in self.owner.token_formats:  # an emulator that reads one encoding only
            wanted = " or ".join(sorted(self.owner.token_formats))
            reason = f"the request body must be {wanted}, not {kind or 'unlabelled'}"
            self._answer(self.owner.token_format_status,
                         {"error": "invalid_request", "error_description": reason})  # fmt: skip
            return
        if body == "json":
            form = {k: str(v) for k, v in json.loads(raw or "{}").items()}
        else:  # the RFC 6749 form body (Auth0 takes it too)
            form = {k: v[0] for k, v in parse_qs(raw).items()}
        if self.owner.rate_counts_tokens and not self.owner.rate_ok():
            self._answer(429, {"error": "too_many_requests", "error_description": "rate"})
            return
        self._answer(*self.owner.issue_token(form))

    def do_GET(self) -> None:
        if self._redirected():
            return
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if not self.owner.authorised(self.headers.get("Authorization")):
            self._answer(401, {"name": "Unauthorized", "message": "bad token", "status": 401})
            return
        if url.path.rstrip("/") == "/core/v1/buildings":
            self._answer(200, self.owner.listing())
            return
        parts = url.path.strip("/").split("/")
        if len(parts) in (4, 5) and parts[:2] == ["data", "v4"]:
            if not self.owner.rate_ok():
                self._answer(429, {"name": "TooManyRequests", "status": 429})
                return
            if len(parts) == 5:
                query["ids"] = parts[4]
            if self.owner.html_answers:
                self.owner.html_answers -= 1
                page = b"<html><body>502 Bad Gateway</body></html>"
                head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(page)}"
                self.wfile.write(head.encode() + b"\r\n\r\n" + page)
                return
            self._answer(*self.owner.data(parts[2], parts[3], query))
            return
        self._answer(404, {"name": "NotFound", "message": url.path, "status": 404})
