"""Pure rules of the health domain (no I/O, no framework)."""
