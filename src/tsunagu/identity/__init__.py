"""Identity: staff accounts, roles, sessions and API tokens (cards, passkeys and OIDC come later)."""
