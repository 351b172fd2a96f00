"""Pure certificate profiles and rules (no I/O)."""
