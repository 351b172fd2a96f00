"""Services of the linkage domain (never commit: the edge owns the transaction)."""
