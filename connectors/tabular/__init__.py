"""The UK half-hourly tabular engine: one reader for every vendor's wide or long HH file,
the vendor layouts as data (`layouts/*.toml`), HH dates and the `.df2` format.

May import: `connectors.base`, `connectors.clock`, `connectors.finite` and third-party
parsers (pyarrow, pandas).
Must never: import another connector family or anything from `app`.
"""
