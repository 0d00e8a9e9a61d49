"""Shared ground of every component: identifiers, Iranian IDs, Persian text, crypto, database,
settings, errors, and the contracts between components."""
