"""Pure rules of the linkage domain (no I/O)."""
