"""Pure rules of the resident registry: value types, validation, and the event projection. No I/O."""
