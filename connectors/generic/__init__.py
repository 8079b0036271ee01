"""The generic readings CSV connector (one reading a row, columns by name or number) and
the readings JSON format.

May import: `connectors.base`, `connectors.clock` and third-party parsers (pandas, pyarrow).
Must never: import another connector family or anything from `app`.
"""
