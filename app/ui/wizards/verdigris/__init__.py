"""The wizard's pages for a Verdigris account: credentials, channel picker, connection test.

May import: `app.ui.wizards`' base page and `app.core`. Must never import `source_wizard`.
"""
