"""The data-protection core of the app: families, persons, consents, the one reveal() path."""
