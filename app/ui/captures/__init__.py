"""Pushes held for mapping: the map-by-example dialog and the view of a captured body.

May import: PySide6, `app.ui` helpers (workers, buttons, plain errors), the Qt-free
`app.core.listener.held` facade, `connectors.push.mapped` (point paths), and in functions run
on a worker (`row`) the capture store, device registry, journal and committer they open.
Must never: read or write the capture store or the journal on the GUI thread beyond
the quick facade calls (bounded store); run a replay except on a worker.
"""
