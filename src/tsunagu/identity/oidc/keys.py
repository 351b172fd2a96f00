"""The ID-token signing key: ES256 on P-256, generated once, its private part sealed (AES-256-GCM under a key
derived from the master secret), ``kid`` = RFC 7638 thumbprint. The JWKS publishes every active key."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagu.identity.oidc.models import OidcSigningKey
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import SealedBox, derive_key

ALGORITHM = "ES256"
CURVE = "P-256"
SEAL_CONTEXT = b"identity_oidc_signing_keys.sealed_private_key"


@dataclass
class SigningKeys:
    """Loads (or creates, the first time) the signing key; caches the opened key for the process."""

    box: SealedBox
    _opened: dict[str, ECKey] = field(default_factory=dict)

    @classmethod
    def from_master(cls, master: bytes) -> SigningKeys:
        return cls(SealedBox(derive_key(master, "identity.oidc.signing_key"), SEAL_CONTEXT))

    def current(self, db: Session, clock: Clock) -> tuple[str, ECKey]:
        """The key that signs new ID tokens: the oldest active one (created on first use)."""
        row = db.scalars(
            select(OidcSigningKey)
            .where(OidcSigningKey.active.is_(True))
            .order_by(OidcSigningKey.created_at, OidcSigningKey.kid)
            .limit(1)
        ).first()
        if row is None:
            row = self._create(db, clock)
        if row.kid not in self._opened:
            private = json.loads(self.box.open(row.sealed_private_key))
            self._opened[row.kid] = ECKey.import_key(private)
        return row.kid, self._opened[row.kid]

    def jwks(self, db: Session, clock: Clock) -> dict[str, Any]:
        """The public JSON Web Key Set (RFC 7517) with every active key."""
        self.current(db, clock)
        rows = db.scalars(
            select(OidcSigningKey).where(OidcSigningKey.active.is_(True)).order_by(OidcSigningKey.created_at)
        )
        return {"keys": [dict(r.public_jwk) for r in rows]}

    def _create(self, db: Session, clock: Clock) -> OidcSigningKey:
        key = ECKey.generate_key(CURVE, private=True)
        kid = key.thumbprint()
        public = {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}
        row = OidcSigningKey(
            kid=kid,
            sealed_private_key=self.box.seal(json.dumps(key.as_dict(private=True)).encode()),
            public_jwk=public,
            created_at=clock.now(),
            active=True,
        )
        db.add(row)
        db.flush()
        return row
