"""The Verdigris connector: the API client, the channel listing and the grid of readings.

May import: `connectors.base`, `connectors.finite` and `requests`.
Must never: import another connector family or anything from `app`.
"""
