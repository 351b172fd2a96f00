"""Pure core of the laws domain: the law model, the streaming XML parser and the version diff (no I/O but reading)."""
