"""The Verdigris core listing (JSON:API) as a tree for a channel picker.

``GET /core/v1/buildings/?include=panels.breakers.circuits`` answers
``data`` (buildings) and ``included`` (panels, breakers, circuits) linked by
``relationships``. `building_tree` resolves the links into nested nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.base import SourceError

CHILDREN = {"buildings": "panels", "panels": "breakers", "breakers": "circuits"}


@dataclass
class Node:
    """A building, panel, breaker or circuit."""

    kind: str  # building | panel | breaker | circuit
    id: str
    name: str
    timezone: str | None = None
    children: list[Node] = field(default_factory=list)

    def walk(self, depth: int = 0) -> list[tuple[int, Node]]:
        """This node and its descendants with their depth, in order."""
        out = [(depth, self)]
        for child in self.children:
            out.extend(child.walk(depth + 1))
        return out


def building_tree(document: dict[str, Any]) -> list[Node]:
    """Buildings → panels → breakers → circuits from a JSON:API document."""
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for item in [*document.get("data", []), *document.get("included", [])]:
        index[(str(item.get("type")), str(item.get("id")))] = item
    return [_node(item, index, set()) for item in document.get("data", [])]


def _node(
    item: dict[str, Any], index: dict[tuple[str, str], dict[str, Any]], seen: set[tuple[str, str]]
) -> Node:
    kind, ident = str(item.get("type")), str(item.get("id"))
    attributes = item.get("attributes") or {}
    node = Node(
        kind=kind.removesuffix("s"),
        id=ident,
        name=str(attributes.get("name") or attributes.get("label") or ident),
        timezone=attributes.get("timezone"),
    )
    child_type = CHILDREN.get(kind)
    if child_type is None or (kind, ident) in seen:
        return node
    links = ((item.get("relationships") or {}).get(child_type) or {}).get("data") or []
    for link in links:
        target = index.get((str(link.get("type")), str(link.get("id"))))
        if target is not None:
            node.children.append(_node(target, index, seen | {(kind, ident)}))
    return node


def zone_for(buildings: list[Node], wanted: dict[str, list[str]]) -> str:
    """The IANA zone of the building(s) holding the wanted channels (level → ids).

    Raises:
        SourceError: a channel is not in the listing, or they span several zones.
    """
    found: dict[tuple[str, str], str] = {}
    for building in buildings:
        for _depth, node in building.walk():
            found.setdefault((node.kind, node.id), building.timezone or "")
    zones: set[str] = set()
    for level, ids in wanted.items():
        for ident in ids:
            zone = found.get((level, str(ident)))
            if not zone:
                raise SourceError(f"{level} {ident} is in no building with a time zone")
            zones.add(zone)
    if len(zones) != 1:
        raise SourceError(
            f"the channels are in buildings of several time zones ({', '.join(sorted(zones))}); "
            "pull each building as its own job, or give --timezone"
        )
    return zones.pop()
