"""Sniff-and-rank: choose the connector for a dropped file.

The registry is built in one place (the CLI / app start) from a list of
connectors; there is no global registration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connectors.base import Connector, Source


@dataclass(frozen=True)
class Candidate:
    """A connector and how sure it is that it can read a source."""

    connector: Connector
    score: float


class ConnectorRegistry:
    """The connectors the app knows, by id, and ranking of sources among them."""

    def __init__(self, connectors: Iterable[Connector]) -> None:
        self._by_id: dict[str, Connector] = {}
        for connector in connectors:
            self._by_id[connector.info.id] = connector

    def ids(self) -> list[str]:
        """All connector ids in registration order."""
        return list(self._by_id)

    def all(self) -> list[Connector]:
        """All connectors in registration order."""
        return list(self._by_id.values())

    def get(self, connector_id: str) -> Connector:
        """The connector with this id.

        Raises:
            KeyError: with the known ids in the message.
        """
        try:
            return self._by_id[connector_id]
        except KeyError:
            ids = ", ".join(self._by_id)
            raise KeyError(f"unknown connector {connector_id!r}; known: {ids}") from None

    def rank(self, source: Source) -> list[Candidate]:
        """Connectors that could read `source`, best first (score > 0 only)."""
        head = source.head()
        scored = [Candidate(c, float(c.sniff(head, source.name))) for c in self._by_id.values()]
        return sorted((c for c in scored if c.score > 0), key=lambda c: -c.score)

    def best(self, source: Source) -> Candidate | None:
        """The best candidate, or None when nothing recognises the source."""
        ranked = self.rank(source)
        return ranked[0] if ranked else None
