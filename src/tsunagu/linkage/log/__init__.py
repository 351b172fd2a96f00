"""The hub's verifiable exchange log: an append-only RFC 9162 Merkle tree with signed tree heads (see README.md)."""
