"""Base registries: versioned schemas, records and their national seed data."""
