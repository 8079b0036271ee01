"""What the Accuenergy readers (AcuLink 810, AcuRev 2100) share: `payloads` (snapshot,
data log, WEB2 and CSV bodies into device logs, and device logs into readings),
`fields` (the key paths, per-device options), `names` (which meter a push is from, and
the instant its file name gives) and `params` (which parameter keys are delivered).

May import: `connectors.base`, `connectors.finite` and the common push parsing.
Must never: import a device reader (`aculink810`, `acurev2100` import this), another
connector family, or anything from `app`.
"""
