"""The engine, Qt-free: journal, delivery, listener, pulls, sources, preview, EnergyCAP.

Shared modules sit at the top (mapping, settings, secrets, paths, pipeline, push readers);
each capability is a package whose `__init__` says what it may import.

May import: the connectors and third-party libraries.
Must never: import Qt (PySide6, pyqtgraph), `app.ui` or `app.cli`.
"""
