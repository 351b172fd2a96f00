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

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def derive_key(master: bytes, purpose: str) -> bytes:
    """Derive a 32-byte sub-key for one purpose from the master secret (HMAC-SHA-256 as a PRF)."""
    return hmac.new(master, b"tsunagu/" + purpose.encode(), hashlib.sha256).digest()


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
