"""Deterministic synthetic municipality: a realistic population with history, scalable to 1,000,000."""
