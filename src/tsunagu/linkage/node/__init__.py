"""An agency's node: ``tsunagu node`` serves the agency's answers to the hub over HTTP (see README.md)."""
