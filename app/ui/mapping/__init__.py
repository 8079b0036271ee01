"""The mapping editor: source ids to EnergyCAP channels, the meter catalog picker and its model.

May import: `app.ui` helpers and `app.core`. Must never be imported by `app.core`.
"""
