"""The `gui` command and what the desktop app runs in the background: delivery, the scheduler
and the listener (`services`), and whether delivery is paused and why (`delivery`).

May import: `app.cli`, `app.core`; `app.ui` only inside the `gui` command. Must never be
imported by `app.core`.
"""
