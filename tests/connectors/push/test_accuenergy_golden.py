"""The Accuenergy readers read every pinned body exactly as they did (readings, times, origins,
problems, info): the speed work on the readers must not change a single reading.

The pins were made with the readers as they were before that work (7 Dec 2026); see
`tests.connectors.push.accuenergy_cases` for the bodies and how to re-pin.
"""

from __future__ import annotations

import json

import pytest

from tests.connectors.push.accuenergy_cases import GOLDEN, cases, read_case

PINNED = json.loads(GOLDEN.read_text())


def test_every_case_is_pinned() -> None:
    assert sorted(PINNED) == sorted(key for key, *_ in cases())


@pytest.mark.parametrize("case", cases(), ids=lambda case: case[0])
def test_the_reading_is_the_pinned_one(case) -> None:
    key, reader, body, name, options = case
    read = json.loads(json.dumps(read_case(reader, body, name, options), sort_keys=True))
    assert read == PINNED[key]


def test_the_pins_cover_what_the_speed_work_touches() -> None:
    described = json.dumps(PINNED)
    assert "clocks went back" in described  # an ambiguous local time refused
    assert "clocks went forward" in described  # a time that does not exist
    assert "not a number" in described and "not a finite number" in described
    assert "cannot be negative" in described
    total = sum(len(case.get("readings", [])) for case in PINNED.values())
    assert total > 900
