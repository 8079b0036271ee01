"""The EnergyCAP client: Readings, ESA and Import APIs, lookups, retries.

Every call carries `ECI-ApiKey` and `Content-Type: application/json`, and
goes to the configured host only: redirects are never followed (a 3xx raises
`RedirectError` naming the Location), so the key never leaves that host and a
POST never turns into a GET. 429 honours a valid `Retry-After` (at most
`retry.MAX_RETRY_AFTER_S`); 5xx, dropped connections, timeouts and answers
that stall back off with full jitter (`app.core.energycap.retry`). 401/403 raise
`AuthError` naming the host (never the key); other 4xx raise `ApiError` with
EnergyCAP's own message. A 200 from the Readings API can still carry
`failedReadings`: they are returned per channel in `ReadingResult.failures`,
never dropped, and an answer that is not the documented `ReadingResponse`
(HTML, truncated JSON, missing counts) comes back with `accounted` False, so
nothing in it is confirmed. Waits between retries use `sleep` and stop early
when `cancelled()` turns true (`CancelledError`).
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from app.core.energycap.models import (
    FailedChannel,
    ReadingResult,
    TaskResult,
    decode_error_output,
    parse_reading_result,
    parse_task,
    pick_utc_zone,
    unaccounted,
)
from app.core.energycap.retry import RetryPolicy, parse_retry_after
from app.core.energycap.transport import (
    ApiError,
    AuthError,
    CancelledError,
    EncodedJson,
    EnergyCapError,
    InvalidUrlError,
    RedirectError,
    StalledError,
    TransientError,
    encoded_json,
    message_of,
    normalise_url,
    read_within,
)
from app.core.error_kinds import OUTAGE, UNREACHABLE
from connectors.base import printable

__all__ = [
    "ApiError",
    "AuthError",
    "CancelledError",
    "EnergyCapClient",
    "EnergyCapError",
    "FailedChannel",
    "InvalidUrlError",
    "ReadingResult",
    "RedirectError",
    "RetryPolicy",
    "TaskResult",
    "TransientError",
    "normalise_url",
]

log = logging.getLogger(__name__)

READING_PATHS = {"readings": "/api/v3/reading", "esa": "/api/v202407/esaReading"}


class EnergyCapClient:
    """A small, retrying client for the EnergyCAP endpoints meterbridge uses."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        self.base_url = normalise_url(base_url)
        self.host = urlsplit(self.base_url).netloc
        self._key = api_key
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self._session = session or requests.Session()
        self._sleep = sleep
        self.cancelled = cancelled  # checked after every wait: True ends the request at once

    def _wait(self, seconds: float) -> None:
        """Sleep (cancellable through the injected `sleep`), then stop if cancelled."""
        if self.cancelled():
            raise CancelledError("delivery was cancelled")
        self._sleep(seconds)
        if self.cancelled():
            raise CancelledError("delivery was cancelled")

    # -- transport ---------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "ECI-ApiKey": self._key,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> requests.Response:
        """One call with retries; returns the successful (2xx/3xx) response.

        Raises:
            AuthError: 401/403.
            ApiError: other 4xx.
            TransientError: 429/5xx/connection problems after the last attempt.
        """
        url = self.base_url + path
        last, kind = "no attempt made", ""
        for attempt in range(1, max(self.retry.max_attempts, 1) + 1):
            response, delay, last, kind = self._attempt(method, url, path, json, params, attempt)
            if response is not None:
                return response
            if attempt >= self.retry.max_attempts:
                break
            log.info("%s %s: %s; retrying in %.1f s", method, path, last, delay)
            self._wait(delay)
        raise TransientError(
            f"EnergyCAP at {self.host} did not answer {method} {path} after "
            f"{self.retry.max_attempts} attempts (last: {last})",
            kind=kind,
        )

    def _attempt(
        self,
        method: str,
        url: str,
        path: str,
        body: Any,
        params: dict[str, Any] | None,
        attempt: int,
    ) -> tuple[requests.Response | None, float, str, str]:
        """Make one attempt: (response, 0, "", "") on success, else (None, delay, what went
        wrong, its kind: ``unreachable`` or ``outage``)."""
        try:
            encoded = body if isinstance(body, EncodedJson) else None
            response = self._session.request(
                method, url, json=body if encoded is None else None, data=encoded, params=params,
                headers=self._headers(), timeout=self.timeout_s, allow_redirects=False,
                stream=True,
            )  # fmt: skip
            read_within(response, time.monotonic() + 2 * self.timeout_s)
        except requests.exceptions.SSLError as exc:  # retrying cannot fix a certificate
            raise EnergyCapError(
                f"the TLS connection to {self.host} failed ({type(exc).__name__}): "
                "is the host right, and is its certificate trusted on this machine?",
                kind=UNREACHABLE,
            ) from None
        except (requests.Timeout, StalledError):
            wait = self.retry.backoff(attempt)
            return None, wait, f"no answer within {self.timeout_s:g} s", UNREACHABLE
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            wait = self.retry.backoff(attempt)
            return None, wait, f"connection failed ({type(exc).__name__})", UNREACHABLE
        status = response.status_code
        if status == 429 or status >= 500:
            after = parse_retry_after(response.headers.get("Retry-After"))
            delay = after if after is not None else self.retry.backoff(attempt)
            return None, delay, f"HTTP {status}", OUTAGE
        if 300 <= status < 400:
            raise RedirectError(self._redirect_message(method, path, response))
        if status in (401, 403):
            raise AuthError(
                f"EnergyCAP at {self.host} refused the API key (HTTP {status}): "
                "the API key or the host is wrong, or the key lacks permission"
            )
        if status >= 400:
            text = self._scrub(response.text or "")
            raise ApiError(
                f"EnergyCAP rejected {method} {path} (HTTP {status}): {message_of(text)}",
                status=status,
                body=text,
            )
        return response, 0.0, "", ""

    def _redirect_message(self, method: str, path: str, response: requests.Response) -> str:
        where = printable(self._scrub(response.headers.get("Location") or "(no Location)"))
        return (
            f"EnergyCAP at {self.host} answered {method} {path} with a redirect (HTTP "
            f"{response.status_code}) to {where[:300]}: meterbridge never follows redirects, so "
            "the API key stays with the configured host; check the EnergyCAP URL"
        )

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._decode(self.request(method, path, **kwargs), method, path)

    def _decode(self, response: requests.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise EnergyCapError(
                f"EnergyCAP at {self.host} answered {method} {path} with something that is "
                "not JSON; is the host right?"
            ) from exc

    # -- readings ----------------------------------------------------------

    def post_readings(
        self, body: list[dict[str, Any]], api: Literal["readings", "esa"]
    ) -> ReadingResult:
        """Post one Readings (or ESA) API body; failures come back per channel."""
        path = READING_PATHS[api]
        response = self.request("POST", path, json=encoded_json(body))
        try:
            data = response.json()
        except ValueError:
            head = printable(" ".join(response.text[:80].split()))
            note = f"EnergyCAP answered {response.status_code} with something that is not JSON"
            shown = f"'{head}'" if head else "an empty body"
            return unaccounted(f"{note} ({shown})", response.status_code)
        return parse_reading_result(data, response.status_code)

    # -- import ------------------------------------------------------------

    def start_import(
        self,
        data: bytes,
        profile: dict[str, Any],
        *,
        note: str | None = None,
        auto_create_channels: bool = False,
    ) -> str:
        """Start an Import API task for a delimited file; returns the task GUID."""
        # An inline ReadingImportProfile has no profileCode (only stored profiles do).
        inline = {k: v for k, v in profile.items() if k != "profileCode"}
        request: dict[str, Any] = {
            "inlineProfile": inline,
            "data": base64.b64encode(data).decode("ascii"),
            "autoCreateChannels": auto_create_channels,
        }
        if note:
            request["importNote"] = note
        answer = self._json("POST", "/api/v3/import/reading", json=request)
        guid = _task_guid(answer)
        if not guid:
            raise EnergyCapError(f"EnergyCAP at {self.host} started an import but gave no task id")
        return guid

    def get_task(self, guid: str) -> TaskResult:
        """One poll of an import task."""
        data = self._json("GET", f"/api/v3/task/{guid}")
        return parse_task(guid, data if isinstance(data, dict) else {})

    def error_output(self, guid: str) -> str:
        """The error file of a task as plain lines (empty when there is none).

        A JSON-encoded body (a string, or an array/object of errors) is decoded.
        """
        response = self.request("GET", f"/api/v3/task/{guid}/errorOutput")
        return decode_error_output(response.text or "")

    def wait_task(self, guid: str, *, poll_s: float = 2.0, timeout_s: float = 3600.0) -> TaskResult:
        """Poll a task until it ends; fetch `errorOutput` when it failed or had errors.

        Raises:
            TransientError: when the task has not ended within `timeout_s`.
        """
        deadline = time.monotonic() + timeout_s
        task = self.get_task(guid)
        while not task.ended:
            if time.monotonic() >= deadline:
                raise TransientError(
                    f"import task {guid} on {self.host} had not ended after {timeout_s:g} s"
                )
            self._wait(poll_s)
            task = self.get_task(guid)
        if task.has_errors:
            task.error_output = self.error_output(guid)
        return task

    # -- lookups -----------------------------------------------------------

    def _list(self, path: str) -> list[dict[str, Any]]:
        data = self._json("GET", path)
        return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []

    def time_zones(self) -> list[dict[str, Any]]:
        """The tenant's time zones (`timeZoneId`, `timeZoneCode`, `timeZoneInfo` ...)."""
        return self._list("/api/v3/timezone")

    def utc_time_zone_id(self) -> int:
        """EnergyCAP's id of UTC, looked up (never hard-coded).

        Raises:
            EnergyCapError: when the tenant lists no zone that is UTC.
        """
        found = pick_utc_zone(self.time_zones())
        if found is None:
            raise EnergyCapError(f"EnergyCAP at {self.host} lists no UTC time zone")
        return found

    def observation_types(self) -> list[dict[str, Any]]:
        """The tenant's observation types (codes ≤16 characters)."""
        return self._list("/api/v3/observationtype")

    def units(self) -> list[dict[str, Any]]:
        """The tenant's units."""
        return self._list("/api/v202305/unit")

    def meters(self) -> list[dict[str, Any]]:
        """The tenant's meters."""
        return self._list("/api/v3/meter")

    def meter_channels(self, meter_id: int) -> list[dict[str, Any]]:
        """The channels of one meter."""
        return self._list(f"/api/v202101/meter/{int(meter_id)}/channel")

    def check(self) -> None:
        """Prove that the host answers and accepts the key.

        Raises:
            AuthError: the key or host is wrong.
            EnergyCapError: the host cannot be reached or does not speak EnergyCAP.
        """
        self.time_zones()


def _task_guid(answer: Any) -> str | None:
    if isinstance(answer, dict):
        for key in ("taskGUId", "taskGuid", "taskGUID", "guid"):
            if answer.get(key):
                return str(answer[key])
    if isinstance(answer, str) and answer:
        return answer
    return None
