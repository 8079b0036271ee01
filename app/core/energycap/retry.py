"""Retry timing for EnergyCAP calls: exponential backoff with full jitter.

A valid `Retry-After` (delay-seconds or an HTTP date) is honoured: the server
knows when it will take us back; but never longer than `MAX_RETRY_AFTER_S`
(300 s), so a hostile or broken answer cannot park delivery for days. One
that is not a finite, non-negative number of seconds (``nan``, ``-5``,
``inf``, ``1e400``, garbage) is ignored and the normal backoff applies.
Everything else waits a random time between 0 and
``min(cap, base * 2**(attempt - 1))`` ("full jitter"), so many clients that
failed together do not come back together.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_S = 300.0  # the longest Retry-After honoured; longer asks wait this long
_SECONDS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,6})?")  # delay-seconds (a fraction tolerated)


@dataclass
class RetryPolicy:
    """How often and how long to retry transient failures.

    Attributes:
        max_attempts: attempts per request, the first included.
        base_s: backoff of the first retry (upper bound of its jitter).
        cap_s: the largest backoff between two attempts.
    """

    max_attempts: int = 8
    base_s: float = 1.0
    cap_s: float = 60.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        ceiling = min(self.cap_s, self.base_s * (2 ** max(attempt - 1, 0)))
        return (rng or random).uniform(0.0, max(ceiling, 0.0))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks us to wait (at most `MAX_RETRY_AFTER_S`).

    None when the header is absent or not valid: not a finite, non-negative
    number of seconds (``nan``, ``inf``, ``-1``, ``1e400``) nor an HTTP date.
    A date in the past asks for no wait (0).

    Args:
        value: the header: delay-seconds (``"3"``) or an HTTP date.
        now: the current time (for tests); defaults to the clock.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not _SECONDS.fullmatch(text):
        return _date_delay(text, now)
    seconds = float(text)
    return min(seconds, MAX_RETRY_AFTER_S) if math.isfinite(seconds) else None


def _date_delay(text: str, now: datetime | None) -> float | None:
    """Seconds until an HTTP date (capped), None when `text` is not one."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return min(max((when - current).total_seconds(), 0.0), MAX_RETRY_AFTER_S)
