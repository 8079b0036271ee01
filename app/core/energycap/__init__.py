"""Talking to EnergyCAP: the HTTP client, the import models, the meter catalog, the
exporter that turns readings into API batches and import files, the outbox and the retry policy.

May import: `app.core`'s shared modules (settings, mapping, secrets, paths) and `connectors.base`.
Must never: import the journal, delivery, listener, pulls, sources, preview or any UI; it knows
nothing of where readings came from or of what is still pending.
"""
