"""Delivery: takes pending readings out of the journal, sends them to EnergyCAP, reads
EnergyCAP's answer back into the journal (sent, rejected, retried later).

May import: `app.core.journal`, `app.core.energycap`, shared `app.core` modules.
Must never: import the listener, the pulls, sources or preview (they only fill the
journal), nor the UI.
There is one delivery path: `engine.deliver_pending` (with `send`, `trace`,
`targets`, `checks`), used by `send`, `deliver`, `replay`, `serve`, the pulls and the app.
"""
