"""Readers that turn each kind of source into normalised readings. They only read."""
