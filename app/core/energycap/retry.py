"""Retry timing for EnergyCAP calls: exponential backoff with full jitter.

`Retry-After` (seconds or an HTTP date) is honoured as given: the server knows
when it will take us back. Everything else waits a random time between 0 and
``min(cap, base * 2**(attempt - 1))`` ("full jitter"), so many clients that
failed together do not come back together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


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
    """Seconds a `Retry-After` header asks us to wait, or None when absent or unreadable.

    Args:
        value: the header: delay-seconds (``"3"``) or an HTTP date.
        now: the current time (for tests); defaults to the clock.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max((when - current).total_seconds(), 0.0)
