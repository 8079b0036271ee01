"""The `energycap` pytest fixture: a started FakeEnergyCap, stopped after the test.

Use it from any test package by importing it into that package's conftest.py::

    from tests.fakes.fixtures import energycap  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.energycap import FakeEnergyCap

API_KEY = "test-key"


@pytest.fixture
def energycap() -> Iterator[FakeEnergyCap]:
    """A running fake EnergyCAP (key "test-key") with no meters; add what the test needs."""
    with FakeEnergyCap(api_key=API_KEY) as fake:
        yield fake
