"""An agency's issuer service (ZB-STD-008): it signs documents of the types the hub registers
with the agency's own document-signing key, keeps their status lists, and deposits both at the
hub through the exchange. It runs behind the agency's gateway and calls out only through it."""
