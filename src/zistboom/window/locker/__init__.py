"""The person's locker at the documents hub, read and shared through the exchange."""
