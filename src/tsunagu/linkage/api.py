"""Public interface of the linkage domain (the only module other packages may import)."""
