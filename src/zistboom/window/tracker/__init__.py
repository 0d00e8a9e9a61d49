"""The signed-in person's data tracker: every access to their personal data across the exchange."""
