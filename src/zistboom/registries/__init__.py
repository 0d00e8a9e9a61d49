"""Schema-driven base registries: a registry's versions are JSON Schema documents (a documented
subset of 2020-12), its records follow them, and its Data API is generated from them."""
