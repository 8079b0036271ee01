"""The push listener: the HTTP server meters push to (`server`, `http`), the request handler
that reads a body (`handler`, `body`), and the commit process that writes readings into the
journal before the meter gets its 200 (`commit`, `commit_process`), plus raw captures.

May import: `app.core.journal`, `app.core.sources` (devices, registers), `app.core.push_readers`,
the push connectors and shared `app.core` modules.
Must never: import delivery or the pulls; acknowledging a push never waits on EnergyCAP.
"""
