"""The laws domain's services: import, review workflow, reports. Services never commit."""
