"""meterbridge: moves meter interval data into EnergyCAP."""

from __future__ import annotations

from app._version import __version__

__all__ = ["__version__"]
