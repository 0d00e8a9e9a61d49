"""Zistboom: an open platform for government digital ecosystems."""

__version__ = "0.1.0"
