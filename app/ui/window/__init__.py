"""The main window, its actions, panels, the held-values panel and the log viewer.

May import: `app.ui` helpers, `app.ui.mapping`, `app.ui.preview`, `app.ui.settings`,
`app.ui.wizards` and `app.core`. Must never be imported by the dialogs it opens.
"""
