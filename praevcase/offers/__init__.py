"""The offers catalogue ("Angebote"): providers, age phases, fields of action, capacity, standards."""
