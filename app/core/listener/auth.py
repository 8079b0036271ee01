"""Who may push: the token of a request, and failed token checks logged and slowed.

A token comes as ``Authorization: Bearer <t>``, the HTTP Basic password (else
its user name) or ``?token=``. A failed check is logged with the address and
the device asked for (never the token) and the answer to that address waits
longer with each failure in a row (0.1 s doubling to 5 s), so guessing tokens
from the LAN is slow while other addresses are not held up.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

log = logging.getLogger(__name__)

FIRST_DELAY_S = 0.1
MAX_DELAY_S = 5.0
FORGET_AFTER_S = 600.0
MAX_ADDRESSES = 4096


def header_token(header: str | None) -> str | None:
    """The token from ``Bearer <t>`` or Basic auth (the password, else the user name)."""
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return password or user or None
    return None


class FailedAuth:
    """Failed token checks per address: how long the next answer waits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def failed(self, address: str, device: str, why: str) -> float:
        """Record a failure; log it; the seconds the answer should wait."""
        now = self._now()
        count, last = self._failures.pop(address, (0, now))
        count = 1 if now - last > FORGET_AFTER_S else count + 1
        self._failures[address] = (count, now)
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)
        delay = min(MAX_DELAY_S, FIRST_DELAY_S * 2.0 ** min(count - 1, 10))
        log.warning(
            "push refused from %s for device %r: %s (failure %d in a row)",
            address,
            device,
            why,
            count,
        )
        return delay

    def succeeded(self, address: str) -> None:
        """A valid token from `address`: its failures are forgotten."""
        if self._failures:
            self._failures.pop(address, None)

    def _now(self) -> float:
        return float(self._clock())
