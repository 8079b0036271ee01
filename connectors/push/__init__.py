"""Readers of what meters push: the common parsing (`common`: point columns and
`PushConnector`, which every reader is an instance of; `bodies`, `times`, `options`,
`registers`), a body read by a mapping made from an example (`mapped`), and one module per
device (`episensor`, `aculink810`, `acurev2100`, each exposing its `CONNECTOR`), with what the
two Accuenergy readers share in `accuenergy`.

May import: `connectors.base`, `connectors.finite`.
Must never: import another connector family, the HTTP server or anything from `app`.
"""
