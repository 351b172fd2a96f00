"""Services of the credentials domain: issuance, revocation, status lists, presentations (never commit)."""
