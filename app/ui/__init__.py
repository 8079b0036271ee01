"""The desktop app: the only package that imports Qt (PySide6, pyqtgraph).

The main window (`window`) over its dialogs (`wizards`, then `settings`, then
`mapping` and `preview`); `captures` for pushes held for mapping; small shared
widgets and helpers at the top (`workers`, `buttons`, `tables`, `plain_errors` ...).

May import: `app.core` and the connectors.
Must never: import `app.cli` (the `gui` command builds the app and hands it its services).
"""
