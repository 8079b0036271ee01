"""Readers that turn each kind of source into normalised readings. They only read.

May import: third-party parsers. The families (`tabular`, `generic`, `push`, `verdigris`)
share only `base`, `finite`, `registry` and `clock`.
Must never: import `app`, write, or send."""
