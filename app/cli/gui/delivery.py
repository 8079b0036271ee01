"""What the app's delivery thread last met, in the words a facility manager uses.

The background delivery (see `services`) records here whether it is
connected, delivering, or paused and why (a refused key, an unreachable host,
an outage, an unreadable mapping). The window reads it at every refresh and
shows the reason on each source with readings still to send and in the status
bar; the tray raises one notification per new pause.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

NOT_CONNECTED = (
    "Not connected to EnergyCAP: readings are kept safely on this PC until you set the "
    "host and API key (Settings)."
)


@dataclass(frozen=True)
class DeliveryState:
    """Delivery at one moment: connected or not, and the reason it is paused (if it is)."""

    connected: bool = False
    paused: str = ""  # one plain sentence; empty when delivery runs
    detail: str = ""  # the technical message, for Details and the log
    since: datetime | None = None

    @property
    def problem(self) -> str:
        """What rows with pending readings show: the pause, or that nothing is connected."""
        if self.paused:
            return self.paused
        return "" if self.connected else NOT_CONNECTED


def pause_in_plain_words(stopped: str, *, auth_failed: bool = False) -> str:
    """One sentence for why delivery stopped (the technical message stays for Details)."""
    text = stopped.lower()
    if auth_failed or "(http 401)" in text or "(http 403)" in text:
        return "Delivery paused: EnergyCAP refused the API key. Check the key and host in Settings."
    if "connection failed" in text or "no answer within" in text or "tls connection" in text:
        return (
            "Delivery paused: EnergyCAP cannot be reached. Check the network and the host "
            "in Settings; meterbridge tries again."
        )
    if "http 5" in text or "http 429" in text:
        return (
            "Delivery paused: EnergyCAP is not answering right now (an outage); "
            "meterbridge tries again."
        )
    if "mapping" in text:
        return "Delivery paused: the mapping cannot be read. Open the mapping editor to fix it."
    return "Delivery paused: EnergyCAP did not accept the last request (see Details)."


class DeliveryWatch:
    """The delivery thread writes, the GUI thread reads; a lock keeps the two apart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = DeliveryState()

    @property
    def state(self) -> DeliveryState:
        """The latest state."""
        with self._lock:
            return self._state

    def connected(self, yes: bool) -> None:
        """Delivery has (or has not) a host and key to deliver with; clears a pause."""
        with self._lock:
            self._state = DeliveryState(connected=yes)

    def paused(self, stopped: str, *, auth_failed: bool = False) -> None:
        """Delivery stopped with readings pending (`stopped`: the engine's message)."""
        words = pause_in_plain_words(stopped, auth_failed=auth_failed)
        with self._lock:
            since = self._state.since if self._state.paused == words else None
            self._state = DeliveryState(
                connected=True, paused=words, detail=stopped, since=since or datetime.now(UTC)
            )

    def delivered(self) -> None:
        """A run ended without a pause: any old reason is stale."""
        with self._lock:
            if self._state.paused:
                self._state = DeliveryState(connected=True)
