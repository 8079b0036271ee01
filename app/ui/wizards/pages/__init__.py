"""The wizard's shared pages: kind, destination, mapping, schedule, summary, and the
file-based sources (UK HH, generic CSV, SFTP test).

May import: `app.ui.wizards`' base page and `app.core`. Must never import `source_wizard`.
"""
