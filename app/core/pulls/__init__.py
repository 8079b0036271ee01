"""Pulls: readings fetched on a schedule (SFTP folders, local folders, Verdigris), the saved
jobs, the bookmarks of what was already read and the runner that feeds files to the connectors.

May import: `app.core.journal`, `app.core.energycap` (to send), `app.core.delivery`, the
connectors and shared `app.core` modules.
Must never: import the listener, sources, preview or the UI.
"""
