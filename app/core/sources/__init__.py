"""Sources as the user sets them up: the saved source list (`records`), adding or editing one
(`setup`), removing one (`removal`), push devices and their registers, and the checks a form
runs on what the user typed (`validation`).

May import: shared `app.core` modules, `app.core.energycap`, `app.core.pulls` (a pulled
source is saved as a scheduler job) and the connectors.
Must never: import the listener, the preview or the UI; the listener reads devices from here.
"""
