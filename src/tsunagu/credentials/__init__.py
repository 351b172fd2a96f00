"""Verifiable credentials: SMART Health Cards (vaccination certificates), SD-JWT VCs (licences) and their verifier."""
