"""The journal: the SQLite store of every reading accepted, its state (pending, sent, held,
dead), the queue the sender waits on, held values and the mapping hints.

May import: `app.core.energycap` (models, exporter labels), shared `app.core` modules and
`connectors.base` / `connectors.push.common` (the reading shapes it stores).
Must never: import the listener, the pulls or delivery; those write into and read from it.
"""
