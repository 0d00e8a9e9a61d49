"""The window's catalogue of every service of every agency and ecosystem."""
