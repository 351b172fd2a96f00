"""Services of the health domain: they join the caller's transaction and never commit."""
