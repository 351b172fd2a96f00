"""Adapters of the laws domain to the outside world (the e-Gov law API)."""
