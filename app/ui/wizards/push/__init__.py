"""The wizard's pages for push meters (EpiSensor, AcuLink, AcuRev) and the push test.

May import: `app.ui.wizards`' base page and `app.core`. Must never import `source_wizard`.
"""
