"""Verifiable documents (ZB-STD-008): the shared formats, the issuer and the documents hub."""
