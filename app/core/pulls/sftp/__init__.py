"""SFTP pulls: connecting with pinned host keys, polling a remote folder, remembering what
was fetched.

May import: `app.core.pulls`' file intake and submitter, shared `app.core` modules and
`connectors.registry`.
Must never: import the listener, delivery or the UI.
"""
