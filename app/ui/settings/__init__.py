"""The settings dialog and its form.

May import: `app.ui` helpers and `app.core`. Must never import the main window or the wizards.
"""
