"""Monitoring and reports: aggregates only, small cells suppressed."""
