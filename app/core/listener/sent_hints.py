"""The mapping hints a listener's commits have written, so that each is sent once."""

from __future__ import annotations

from typing import Any


class SentHints:
    """The mapping hints (by key) a listener's commits have written, per device.

    A Readings-API device names the same channels push after push and the
    journal keeps a hint until it changes: its reader leaves out the hints
    already committed (reader option ``sent_hints``), so they are neither
    copied, sent to the journal process nor looked up there again. A key is
    added only once the job that carried its hint is committed.
    """

    LIMIT = 100_000  # keys remembered per device; all forgotten beyond (then sent again)

    def __init__(self) -> None:
        self.by_device: dict[str, set[tuple[Any, ...]]] = {}

    def of(self, device: str) -> set[tuple[Any, ...]]:
        """The keys committed for `device` (read from any thread; only `add` writes)."""
        return self.by_device.get(device) or set()

    def add(self, device: str, keys: list[tuple[Any, ...]]) -> None:
        """Note the keys of a committed job's hints."""
        if keys:
            known = self.by_device.setdefault(device, set())
            if len(known) + len(keys) > self.LIMIT:
                known.clear()
            known.update(keys)
