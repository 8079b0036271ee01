"""The journal commands: `deliver`, `status`, `replay` and `held`.

May import: `app.cli`, `app.core`. Must never import `app.ui`, nor pandas at import time.
"""
