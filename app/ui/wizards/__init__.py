"""Setup wizards: one page class per file, shared pages specialised per connector."""
