"""The mapping editor: source ids to EnergyCAP channels, the meter catalog picker and its model.

May import: `app.ui` helpers and `app.core`. Must never import the main window, the wizards
or the settings dialog, nor be imported by `app.core`.
"""
