"""The journal: the SQLite store of every reading accepted, its state (pending, sent, held,
dead), the queue the sender waits on, held values and the mapping hints.

May import: shared `app.core` modules (settings, mapping, paths) and `connectors.base`,
`connectors.finite` and `connectors.push.common` (the reading shapes it stores and checks).
Must never: import the listener, the pulls, delivery, sources or preview; those write into and
read from it.
"""
