"""Administration of the own tenant: agencies and user accounts."""
