"""The `pull` and `jobs` commands: one-off and scheduled pulls from SFTP, folders and Verdigris.

May import: `app.cli`, `app.core` and the connectors. Must never import `app.ui` or
`app.cli.journal`.
"""
