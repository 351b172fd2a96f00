"""The log's signing key: ECDSA P-256 (ES256), created once, stored sealed under a key derived from the master
secret (as the CA keys are), opened only to sign. Verifying needs only the public key in ``linkage_log_keys``."""

from __future__ import annotations

import hashlib
from functools import cached_property

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import SealedBox, derive_key
from tsunagu.linkage.core.treehead import TreeHead
from tsunagu.linkage.log.models import LogKey
from tsunagu.settings import Settings

KEY_PURPOSE = "linkage.log-key"  # derive_key purpose of the key that seals the log's signing key
BOX_CONTEXT = b"linkage.log:signing-key"
ALGORITHM = ec.ECDSA(hashes.SHA256())


def key_id_of(public_der: bytes) -> bytes:
    """RFC 9162-style log identifier: SHA-256 of the SubjectPublicKeyInfo."""
    return hashlib.sha256(public_der).digest()


class LogSigner:
    """Signs tree heads with the log key (created on first use)."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self._settings = settings
        self._clock = clock or Clock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LogSigner:
        return cls(settings)

    @cached_property
    def _box(self) -> SealedBox:
        return SealedBox(derive_key(self._settings.master_secret(), KEY_PURPOSE), BOX_CONTEXT)

    def _current(self, db: Session) -> LogKey:
        row = db.scalars(select(LogKey).order_by(LogKey.id.desc()).limit(1)).first()
        if row is not None:
            return row
        key = ec.generate_private_key(ec.SECP256R1())
        pkcs8 = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        row = LogKey(
            key_id=key_id_of(public),
            public_key=public,
            sealed_key=self._box.seal(pkcs8),
            created_at=self._clock.now(),
        )
        db.add(row)
        db.flush()
        return row

    def sign(self, db: Session, data: bytes) -> tuple[bytes, bytes]:
        """``(key_id, DER signature)`` over ``data``; the private key is unsealed for this call only."""
        row = self._current(db)
        key = serialization.load_der_private_key(self._box.open(row.sealed_key), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - we store EC keys only
            msg = "the log key is not an EC key"
            raise TypeError(msg)
        return row.key_id, key.sign(data, ALGORITHM)

    def public_key_der(self, db: Session) -> bytes:
        return self._current(db).public_key


def public_keys(db: Session) -> dict[bytes, bytes]:
    """Every log key ever used, ``key_id -> SubjectPublicKeyInfo DER``."""
    return {row.key_id: row.public_key for row in db.scalars(select(LogKey))}


def signature_valid(head: TreeHead, keys: dict[bytes, bytes]) -> bool:
    """Whether the head's ES256 signature verifies under the log key it names."""
    der = keys.get(head.key_id)
    if der is None:
        return False
    public = serialization.load_der_public_key(der)
    if not isinstance(public, ec.EllipticCurvePublicKey):  # pragma: no cover - we store EC keys only
        return False
    try:
        public.verify(head.signature, head.signed_bytes(), ALGORITHM)
    except InvalidSignature:
        return False
    return True
