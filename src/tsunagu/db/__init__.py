"""Database plumbing: engine factory, metadata, unit of work, migrations runner."""
