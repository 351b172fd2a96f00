"""Test data for the SD-JWT VC tests: keys, a trust list, synthetic people and issued credentials."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.core import sdjwt, sdjwt_claims
from tsunagu.credentials.core.sdjwt_jws import jwk_thumbprint, public_jwk

ISS = "https://credentials.tsunagu.example"
AUD = "https://verifier.shop.example"
NONCE = "n-0S6_WzA2Mj"
NOW = 1_790_000_000  # a fixed instant (2026-09-21); no test reads the wall clock
STATUS_URI = f"{ISS}/statuslists/1"


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Issuer:
    key: ec.EllipticCurvePrivateKey = field(default_factory=new_key)
    iss: str = ISS

    @property
    def jwk(self) -> dict[str, str]:
        jwk = public_jwk(self.key)
        return {**jwk, "kid": jwk_thumbprint(jwk), "alg": "ES256", "use": "sig"}

    @property
    def kid(self) -> str:
        return self.jwk["kid"]

    def trust(self) -> dict[str, dict[str, Any]]:
        return {self.iss: {"keys": [self.jwk]}}

    def issue(
        self,
        claims: dict[str, Any],
        disclosable: Any,
        holder: ec.EllipticCurvePrivateKey | None,
        **overrides: Any,
    ) -> str:
        options: dict[str, Any] = {
            "key": self.key,
            "kid": self.kid,
            "iss": self.iss,
            "vct": sdjwt_claims.AGE_VCT,
            "iat": NOW - 3600,
            "exp": NOW + 86_400 * 365,
            "holder_jwk": sdjwt.holder_binding(holder) if holder is not None else None,
        }
        options.update(overrides)
        return sdjwt.issue(claims, disclosable=disclosable, **options)


def age_claim_set() -> sdjwt_claims.ClaimSet:
    """A synthetic 34-year-old with a name and an address, so a test can show they stay hidden."""
    return sdjwt_claims.age_credential(
        dt.date(1992, 5, 17),
        dt.date(2026, 9, 21),
        family_name="山田",
        given_name="花子",
        address={
            "postal_code": "100-0001",
            "region": "東京都",
            "locality": "千代田区",
            "street_address": "1-1",
        },
    )


def present(
    credential: str, holder: ec.EllipticCurvePrivateKey | None, disclose: Any, **overrides: Any
) -> str:
    options: dict[str, Any] = {"holder_key": holder, "aud": AUD, "nonce": NONCE, "iat": NOW - 10}
    options.update(overrides)
    return sdjwt.present(credential, disclose=disclose, **options)
