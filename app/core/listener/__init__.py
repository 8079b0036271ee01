"""The push listener: the HTTP server meters push to, the request handler that reads a
body, the commit process that writes readings into the journal before the meter gets its 200.

May import: `app.core.journal`, `app.core.sources` (devices, registers), the push connectors
and shared `app.core` modules.
Must never: import delivery or the pulls; acknowledging a push never waits on EnergyCAP.
"""
