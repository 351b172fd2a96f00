"""Registry services: recording events, queries with least-data presentation, CSV exchange. Never commit."""
