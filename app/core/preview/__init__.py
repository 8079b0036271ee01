"""The preview of a dropped file before anything is sent: the readings read, the columns,
the checks (gaps, spikes, unmapped ids) and the background process that reads big files.

May import: shared `app.core` modules, `app.core.energycap` and the connectors.
Must never: import the journal, delivery, listener, pulls, sources or the UI; a preview
changes nothing.
"""
