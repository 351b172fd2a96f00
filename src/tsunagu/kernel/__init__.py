"""Framework-free shared pieces: identifiers, errors, clock, crypto helpers. Imports no domain."""
