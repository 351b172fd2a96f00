"""The SD-JWT VC issuer's key and metadata. The ES256 key is derived from the master secret (its own purpose
string), so every process of one installation signs with the same key and nothing extra is stored.

``iss`` is ``{public_url}/credentials/vc``; its JWT VC Issuer Metadata is served at
``{public_url}/.well-known/jwt-vc-issuer/credentials/vc`` (draft-ietf-oauth-sd-jwt-vc §5: the well-known segment is
inserted between the host and the issuer's path)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.core.sdjwt_claims import AGE_VCT, DRIVING_LICENCE_VCT, QUALIFICATION_VCT
from tsunagu.credentials.core.sdjwt_jws import jwk_thumbprint, public_jwk
from tsunagu.kernel.crypto import derive_p256_key
from tsunagu.settings import Settings

PURPOSE = "credentials/sdjwt-vc/issuer-es256"
ISSUER_PATH = "/credentials/vc"
METADATA_PATH = "/.well-known/jwt-vc-issuer" + ISSUER_PATH

TYPE_NAMES: dict[str, tuple[str, str]] = {
    AGE_VCT: ("年齢確認", "Age"),
    DRIVING_LICENCE_VCT: ("運転免許証", "Driver's licence"),
    QUALIFICATION_VCT: ("国家資格", "National qualification"),
}


@dataclass(frozen=True)
class IssuerKey:
    iss: str
    key: ec.EllipticCurvePrivateKey
    kid: str
    jwk: dict[str, str]  # public, without kid

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.jwk, "kid": self.kid, "use": "sig", "alg": "ES256"}]}

    def trust(self) -> dict[str, dict[str, Any]]:
        """The verifier's trust list for this issuer (iss → JWKS)."""
        return {self.iss: self.jwks()}

    def status_uri(self, list_id: int) -> str:
        return f"{self.iss}/status/{list_id}"


_cache: dict[tuple[str, str], IssuerKey] = {}
_lock = threading.Lock()


def issuer_url(settings: Settings) -> str:
    return settings.public_url + ISSUER_PATH


def issuer_key(settings: Settings) -> IssuerKey:
    """The issuer key of this installation (derived once per process)."""
    # Keyed by where the master secret comes from, so a hit reads no secret file (this runs on every request
    # that signs or checks a credential); the secret is read only to derive the key on a miss.
    source = (
        settings.secret_key.get_secret_value()
        if settings.secret_key is not None
        else str(settings.data_dir.absolute())
    )
    cache_key = (source, settings.public_url)
    with _lock:
        found = _cache.get(cache_key)
    if found is not None:
        return found
    key = derive_p256_key(settings.master_secret(), PURPOSE)
    jwk = public_jwk(key)
    made = IssuerKey(issuer_url(settings), key, jwk_thumbprint(jwk), jwk)
    with _lock:
        _cache[cache_key] = made
    return made


def issuer_metadata(settings: Settings) -> dict[str, Any]:
    """JWT VC Issuer Metadata: ``issuer`` and the keys inline (``jwks``)."""
    key = issuer_key(settings)
    return {"issuer": key.iss, "jwks": key.jwks()}


def type_metadata(vct: str) -> dict[str, Any] | None:
    """SD-JWT VC Type Metadata (§6) for one of our vct values, or None."""
    names = TYPE_NAMES.get(vct)
    if names is None:
        return None
    return {
        "vct": vct,
        "name": names[1],
        "display": [{"lang": "ja", "name": names[0]}, {"lang": "en", "name": names[1]}],
    }
