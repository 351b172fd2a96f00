"""The OpenID Connect provider: relying parties log residents in through tsunagu (see README.md)."""
