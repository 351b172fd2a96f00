"""Pure rules of the procedures domain: the catalogue schema, form validation, workflow and life events."""
