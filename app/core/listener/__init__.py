"""The push listener: the HTTP server meters push to (`server`, `http`), the request handler
(`handler`: token by `auth`, body decoded by `body`), a body's intake (`push_intake`: parse,
keep or refuse), and the commit that writes readings into the journal before the meter gets
its 200 (`commit`, in a child process under `serve`: `commit_process`); bodies held for
mapping (`capture`, `replay`, `held` for the app) and the URL devices are given (`address`).

May import: `app.core.journal`, `app.core.sources` (devices, registers), `app.core.push_readers`,
the push connectors and shared `app.core` modules.
Must never: import delivery, the pulls or preview; acknowledging a push never waits on EnergyCAP.
"""
