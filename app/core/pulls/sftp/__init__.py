"""SFTP pulls: connecting with pinned host keys, polling a remote folder, remembering what
was fetched.

May import: `app.core.pulls`' bookmarks and file intake, shared `app.core` modules.
Must never: import the listener, delivery or the UI.
"""
