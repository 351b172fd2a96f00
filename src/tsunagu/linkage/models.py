"""Tables of the linkage domain."""
