"""The documents hub: the registry of document types, the holders' lockers, the status lists
the issuers sign, shares with signed consent, access events, and public verification."""
