"""Tenants (one Kommune or Kreis each) and their agencies."""
