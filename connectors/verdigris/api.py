"""The Verdigris REST API over HTTP: token request, core listing, data v4.

Only reads. Limits are kept here: at most 5 requests per second per API host
(a sliding-window limiter shared by the clients of one process), 429 answers
waited out (a valid ``Retry-After`` honoured, at most 60 s) and a 401 answered
once by a fresh token. Errors become `VerdigrisError` with a message in plain
words.

Secrets stay with the hosts they are meant for: the token endpoint and the
API must be https (plain http only to a loopback address, for tests), and
redirects are never followed (a 3xx is an error naming its Location), so the
client secret is never re-posted and the bearer token never sent elsewhere.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from connectors.base import SourceError, http_status_kind
from connectors.verdigris.grid import Request

DEFAULT_AUTH_URL = "https://auth.verdigris.co/oauth/token"
DEFAULT_API_URL = "https://api.verdigris.co"
DEFAULT_AUDIENCE = "https://api.verdigris.co/"
MAX_REQUESTS_PER_S = 5
MAX_429_RETRIES = 6

# A callable that returns a bearer token; `True` asks for a fresh one.
TokenSource = Callable[[bool], str]


class VerdigrisError(SourceError):
    """Verdigris refused or failed a request; the message is for the user."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body_refused: bool = False,
        kind: str = "",
    ) -> None:
        super().__init__(message, kind=kind or http_status_kind(status))
        self.status = status
        self.body_refused = body_refused  # the token endpoint refused the body's encoding


def check_url(url: str, what: str) -> str:
    """`url` if it may carry Verdigris secrets: https, or http to a loopback address.

    Raises:
        VerdigrisError: naming `what` (e.g. "the token endpoint") and the rule.
    """
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if (parts.scheme == "https" and host) or (parts.scheme == "http" and _loopback(host)):
        return url.strip()
    raise VerdigrisError(
        f"{what} {url!r} is not usable: Verdigris must be reached over https "
        "(plain http only to 127.0.0.1 or localhost)"
    )


def _loopback(host: str) -> bool:
    try:
        return host.lower() == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_redirect(answer: requests.Response, what: str) -> None:
    """A 3xx is never followed: raise naming where it pointed."""
    if 300 <= answer.status_code < 400:
        where = answer.headers.get("Location") or "(no Location)"
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in where)[:300]
        raise VerdigrisError(
            f"{what} answered with a redirect (HTTP {answer.status_code}) to {shown}: "
            "meterbridge never follows redirects, so no secret leaves the configured host; "
            "check the URL",
            status=answer.status_code,
        )


class RateLimiter:
    """At most `rate` requests in any `per_s` seconds, as the server counts them.

    A request's slot is counted from when its answer came back (`done`), not
    from when it was sent: the server saw it arrive before that, so however
    the network delays requests, the server never sees `rate` + 1 of them
    within `per_s` seconds.
    """

    def __init__(self, rate: int = MAX_REQUESTS_PER_S, per_s: float = 1.0) -> None:
        self.rate = rate
        self.per_s = per_s * 1.05  # a margin for clock granularity on both sides
        self._done: deque[float] = deque(maxlen=rate)
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until one more request keeps within the limit."""
        with self._lock:
            if len(self._done) >= self.rate:
                delay = self._done[0] + self.per_s - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    def done(self) -> None:
        """Count a request whose answer has arrived (or that failed)."""
        with self._lock:
            self._done.append(time.monotonic())

    def recent_wall(self) -> list[float]:
        """The counted requests as wall-clock epoch seconds (to hand to the next process)."""
        offset = time.time() - time.monotonic()
        with self._lock:
            return [t + offset for t in self._done]

    def seed_wall(self, stamps: list[float]) -> None:
        """Count requests another process made (wall-clock epoch seconds)."""
        offset = time.time() - time.monotonic()
        with self._lock:
            merged = sorted([*self._done, *(float(t) - offset for t in stamps)])
            self._done.clear()
            self._done.extend(merged[-self.rate :])


_LIMITERS: dict[str, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(api_url: str) -> RateLimiter:
    """The process-wide limiter of one API host (clients of a process share it)."""
    with _LIMITERS_LOCK:
        return _LIMITERS.setdefault(api_url.rstrip("/"), RateLimiter())


@dataclass(frozen=True)
class Token:
    """A bearer token and when it expires (aware UTC)."""

    access_token: str
    expires_at: datetime
    body: str = "form"  # the token request encoding that worked: "form" or "json"


TOKEN_BODIES = ("form", "json")
# OAuth2 errors that mean the credentials (not the body's encoding) are wrong.
_CREDENTIAL_ERRORS = frozenset({"invalid_client", "access_denied", "unauthorized_client",
    "invalid_grant", "invalid_scope", "unauthorized", "too_many_requests"})  # fmt: skip


def request_token(
    auth_url: str,
    client_id: str,
    client_secret: str,
    *,
    audience: str = DEFAULT_AUDIENCE,
    session: requests.Session | None = None,
    timeout_s: float = 30.0,
    encoding: str = "form",
) -> Token:
    """Ask the token endpoint for an access token (OAuth2 client credentials).

    Args:
        encoding: ``"form"`` (application/x-www-form-urlencoded, RFC 6749 §4.4.2)
            or ``"json"`` (the body Verdigris' docs show; Auth0 takes both).

    Raises:
        VerdigrisError: wrong credentials, quota reached, the endpoint unreachable;
            ``body_refused`` is set when the answer (400/415) says the body's
            encoding is what it cannot take (the caller may try the other one).
    """
    body = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "audience": audience,
    }
    check_url(auth_url, "the Verdigris token endpoint")
    post = (session or requests.Session()).post
    try:
        if encoding == "json":
            answer = post(auth_url, json=body, timeout=timeout_s, allow_redirects=False)
        else:
            answer = post(auth_url, data=body, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as exc:
        raise VerdigrisError(
            f"cannot reach the Verdigris token endpoint {auth_url}: {exc}", kind="unreachable"
        ) from exc
    _refuse_redirect(answer, f"the Verdigris token endpoint {auth_url}")
    if answer.status_code != 200:
        refused = _body_refused(answer)
        raise VerdigrisError(
            _token_refusal(answer), status=answer.status_code, body_refused=refused
        )
    reply = _json(answer)
    token = reply.get("access_token") if isinstance(reply, dict) else None
    if not isinstance(token, str) or not token:
        raise VerdigrisError(f"the token endpoint {auth_url} answered without an access token")
    try:
        expires_in = float(reply.get("expires_in", 3600))
    except (TypeError, ValueError):
        expires_in = 3600.0
    expires_at = datetime.fromtimestamp(time.time() + expires_in, UTC)
    return Token(token, expires_at, "json" if encoding == "json" else "form")


def _body_refused(answer: requests.Response) -> bool:
    """A 415, or a 400 whose OAuth2 error is not about the credentials or the quota."""
    if answer.status_code == 415:
        return True
    if answer.status_code != 400:
        return False
    reply = _json(answer)
    error = str(reply.get("error") or "").lower() if isinstance(reply, dict) else ""
    reason = str(reply.get("error_description") or "") if isinstance(reply, dict) else ""
    if any(word in reason.lower() for word in ("rate", "limit", "too many")):
        return False
    return error not in _CREDENTIAL_ERRORS


def _token_refusal(answer: requests.Response) -> str:
    """Why the token endpoint said no, in plain words (Verdigris' own reason included)."""
    reply = _json(answer)
    reason = ""
    if isinstance(reply, dict):
        reason = str(reply.get("error_description") or reply.get("message") or "")
    quota = answer.status_code == 429 or any(
        word in reason.lower() for word in ("rate", "limit", "too many")
    )
    if quota:
        return (
            "Verdigris refused a new access token: at most 20 token requests an hour are "
            "allowed. Wait up to an hour; meterbridge keeps its token to avoid this."
        )
    if answer.status_code in (400, 401, 403):
        return (
            f"Verdigris refused the client id or client secret (HTTP {answer.status_code}"
            f"{': ' + reason if reason else ''}); check both in the Verdigris settings."
        )
    return f"the token endpoint answered HTTP {answer.status_code} {reason}".strip()


def explain(status: int, body: Any, what: str) -> str:
    """A plain sentence for a Verdigris error answer."""
    detail = body.get("message", "") if isinstance(body, dict) else ""
    if status == 401:
        return f"Verdigris did not accept the access token for {what} (401). {detail}".strip()
    if status == 403:
        return (
            f"Verdigris says this client may not read {what} (403): ask the Verdigris "
            f"account owner to grant access. {detail}"
        ).strip()
    if status == 404:
        invalid = body.get("invalidIds") if isinstance(body, dict) else None
        if invalid:
            ids = ", ".join(str(i) for i in invalid)
            return f"Verdigris does not know these ids for {what}: {ids} (404)."
        return f"Verdigris found nothing at {what} (404). {detail}".strip()
    if status == 422:
        errors = body.get("errors", []) if isinstance(body, dict) else []
        parts = [f"{e.get('param')}={e.get('value')!r}: {e.get('msg')}" for e in errors]
        return f"Verdigris rejected the request for {what} (422): " + ("; ".join(parts) or detail)
    if status == 429:
        return f"Verdigris is rate-limiting requests for {what} (429); tried again and gave up."
    return f"Verdigris answered HTTP {status} for {what}. {detail}".strip()


class VerdigrisApi:
    """A reader of the Verdigris API.

    Args:
        base_url: API base; ``/core/v1/...`` and ``/data/v4/...`` are appended.
        token: returns a bearer token (argument True: a fresh one).
        session: a requests session (tests use a plain one).
        limiter: the rate limiter (default: the process-wide one of this host).
        sleep: how to wait (tests may pass a recorder).
    """

    def __init__(
        self,
        base_url: str,
        token: TokenSource,
        *,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        timeout_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = check_url(base_url, "the Verdigris API URL").rstrip("/")
        self.token = token
        self.session = session or requests.Session()
        self.limiter = limiter or limiter_for(self.base_url)
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.requests_made = 0

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET a JSON document; waits out 429, renews the token once on 401.

        Raises:
            VerdigrisError: on any other error answer, in plain words.
        """
        renew_token = False
        for _attempt in range(MAX_429_RETRIES + 2):
            answer = self._send(path, params, renew_token)
            if answer.status_code == 401 and not renew_token:
                renew_token = True
                continue
            if answer.status_code == 429:
                self.sleep(_retry_after(answer))
                continue
            if answer.status_code >= 400:
                raise VerdigrisError(
                    explain(answer.status_code, _json(answer), path), status=answer.status_code
                )
            return _json(answer, strict=True)
        raise VerdigrisError(explain(429, {}, path), status=429)

    def _send(
        self, path: str, params: dict[str, str] | None, renew_token: bool
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {self.token(renew_token)}",
            "Accept": "application/json",
        }
        self.limiter.wait()
        self.requests_made += 1
        try:
            answer = self.session.get(
                self.base_url + path, params=params, headers=headers, timeout=self.timeout_s,
                allow_redirects=False,
            )  # fmt: skip
        except requests.RequestException as exc:
            raise VerdigrisError(
                f"cannot reach Verdigris at {self.base_url}: {exc}", kind="unreachable"
            ) from exc
        finally:
            self.limiter.done()
        _refuse_redirect(answer, f"Verdigris at {self.base_url}")
        return answer

    def buildings(self) -> Any:
        """The core listing: buildings with panels, breakers and circuits (JSON:API)."""
        return self.get("/core/v1/buildings/", {"include": "panels.breakers.circuits"})

    def data(self, request: Request, interval: str) -> list[dict[str, Any]]:
        """Data v4 rows ``{id, timestamp, energy|power}`` (unordered) for one request."""
        params = {
            "ids": ",".join(request.ids),
            "interval": interval,
            "start_time": _iso(request.start),
            "end_time": _iso(request.end),
            "timestamp_format": "ISO8601",
            "type": "real",
        }
        rows = self.get(f"/data/v4/{request.kind}/{request.level}s", params)
        if not isinstance(rows, list):
            raise VerdigrisError(f"Verdigris sent {type(rows).__name__} instead of a list of rows")
        return rows


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(answer: requests.Response, strict: bool = False) -> Any:
    try:
        return answer.json()
    except ValueError:
        if strict:
            head = answer.text[:80].strip()
            raise VerdigrisError(
                f"Verdigris answered {answer.url} with something that is not JSON: {head!r}"
            ) from None
        return {}


def _retry_after(answer: requests.Response) -> float:
    """Seconds to wait after a 429: a valid Retry-After within 0.2 … 60 s, else 1 s."""
    try:
        seconds = float(answer.headers.get("Retry-After", "1"))
    except (ValueError, OverflowError):
        return 1.0
    return min(max(seconds, 0.2), 60.0) if math.isfinite(seconds) and seconds >= 0 else 1.0
