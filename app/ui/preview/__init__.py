"""The preview window: the readings of a dropped file as a table and a chart.

May import: `app.ui` helpers, `app.core` (the preview, the mapping, sources) and the
connectors. Must never import the main window, the wizards or the settings dialog.
"""
