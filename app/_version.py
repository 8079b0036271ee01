"""The single source of meterbridge's version (pyproject, the bundle and the installer read it)."""

__version__ = "0.1.0"
