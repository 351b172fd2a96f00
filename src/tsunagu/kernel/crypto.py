"""Crypto helpers for identifiers at rest: AES-256-GCM sealing and a keyed lookup hash.

The My Number is stored as ``nonce || ciphertext`` (AES-GCM, 96-bit random nonce, associated data names the column)
and found by HMAC-SHA-256 under a separate key, so equality search works without decrypting every row.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
# The order of P-256 (NIST SP 800-186): a derived scalar is reduced into [1, n-1].
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def derive_key(master: bytes, purpose: str) -> bytes:
    """Derive a 32-byte sub-key for one purpose from the master secret (HMAC-SHA-256 as a PRF)."""
    return hmac.new(master, b"tsunagu/" + purpose.encode(), hashlib.sha256).digest()


def derive_p256_key(master: bytes, purpose: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 signing key for one purpose from the master secret (the derived 32 bytes reduced into [1, n-1]):
    deterministic, so every process and the CLI sign with the same key and nothing is stored."""
    scalar = int.from_bytes(derive_key(master, purpose), "big") % (P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


@dataclass(frozen=True)
class SealedBox:
    """AES-GCM encryption bound to a context string (for instance ``registry.my_number``)."""

    key: bytes
    context: bytes

    @cached_property
    def _aead(self) -> AESGCM:
        return AESGCM(self.key)

    def seal(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, self.context)

    def open(self, sealed: bytes) -> bytes:
        return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], self.context)


@dataclass(frozen=True)
class KeyedHash:
    """HMAC-SHA-256 used as a blind index."""

    key: bytes

    def digest(self, value: bytes) -> bytes:
        return hmac.new(self.key, value, hashlib.sha256).digest()


def token_hash(token: str) -> str:
    """Hash of a high-entropy bearer token or session id, for storage (not for passwords)."""
    return hashlib.sha256(token.encode()).hexdigest()
