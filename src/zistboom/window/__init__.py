"""The single service window (پنجره واحد خدمات): sign-in through OpenID Connect, people and
officials with their roles per agency, and one catalogue of every service (ARCHITECTURE §8)."""
