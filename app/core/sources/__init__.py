"""Sources as the user sets them up: the saved source list, adding and removing one, push
devices, register modes, and the checks a form runs on what the user typed.

May import: shared `app.core` modules, `app.core.energycap` and the connectors.
Must never: import the listener, pulls, delivery or the UI; they read sources from here.
"""
