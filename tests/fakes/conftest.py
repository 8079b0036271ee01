"""Fixtures of the fakes' own tests."""

from __future__ import annotations

from tests.fakes.fixtures import energycap  # noqa: F401
