"""Services of the procedures domain (they never commit: the edge owns the unit of work)."""
