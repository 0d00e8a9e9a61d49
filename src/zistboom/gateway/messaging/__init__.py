"""Asynchronous messages between organisations on the gateways (ZB-STD-009): store and
forward with signed receipts, retries, duplicate elimination, a status ladder, business
answers, and publish/subscribe."""
