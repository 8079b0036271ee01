"""The preview window: the readings of a dropped file as a table and a chart.

May import: `app.ui` helpers and `app.core.preview`. Must never import the main window.
"""
