"""Shared fixtures of the reliability tests: the fake EnergyCAP with the harness's meters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.energycap import FakeEnergyCap
from tests.reliability.harness import KEY, add_meters


@pytest.fixture
def fake() -> Iterator[FakeEnergyCap]:
    """A fake EnergyCAP on loopback that knows the harness's meters (a test may override)."""
    with FakeEnergyCap(api_key=KEY) as server:
        add_meters(server)
        yield server
