"""Benchmarks of praevcase against the limit of its own stack (see bench/README.md)."""
