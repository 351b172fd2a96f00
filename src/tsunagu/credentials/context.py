"""What the credentials services need from the platform, built once by the shell (app or CLI): the SMART Health
Card issuer key and ``rid`` secret (both derived from the master secret, never stored, logged or returned by any
route), the issuer URL, and the trust list the verifier page uses."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.core import shc, verify
from tsunagu.kernel.clock import Clock
from tsunagu.kernel.crypto import SealedBox, derive_key, derive_p256_key
from tsunagu.settings import Settings

SHC_KEY_PURPOSE = "credentials/shc/issuer-key/1"
SHC_RID_PURPOSE = "credentials/shc/rid/1"
SHC_SEAL_PURPOSE = "credentials/shc/card-seal/1"
WALLET_OWNER_PURPOSE = "credentials/wallet/owner-tag/1"
SHC_PATH = "/credentials/shc"
log = logging.getLogger(__name__)


def derive_issuer_key(master: bytes) -> ec.EllipticCurvePrivateKey:
    """The issuer's ES256 key: a P-256 scalar from the master secret (deterministic, so every process and the CLI
    sign with the same key and nothing is stored)."""
    return derive_p256_key(master, SHC_KEY_PURPOSE)


def issuer_url(public_url: str) -> str:
    """``{public_url}/credentials/shc``. SMART Health Cards require an https issuer: a development install served
    over plain http names its issuer with https so its cards stay well-formed (verifiers that fetch keys over the
    network then cannot reach it; this platform's own verifier trusts its key directly)."""
    base = public_url.rstrip("/")
    if base.startswith("http://"):
        base = "https://" + base.removeprefix("http://")
    return base + SHC_PATH


def _usable(jwks: Any) -> dict[str, Any]:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    return {"keys": [k for k in keys or [] if isinstance(k, dict) and not verify.key_problems(k)]}


def _trust_file(path: Path) -> dict[str, dict[str, Any]]:
    """Trusted issuers in one file: a JWKS naming its issuer (``{"iss": URL, "keys": [...]}``) or a map
    ``{iss: JWKS}`` (what ``tsunagu credentials verify --trust`` reads). Keys that cannot sign cards are dropped."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("credentials trust list: %s is not a JSON file (%s); skipped", path.name, exc)
        return {}
    if isinstance(doc, dict) and isinstance(doc.get("iss"), str) and isinstance(doc.get("keys"), list):
        return {doc["iss"].rstrip("/"): _usable(doc)}
    if isinstance(doc, dict) and doc and all(isinstance(v, dict) for v in doc.values()):
        return {str(iss).rstrip("/"): _usable(jwks) for iss, jwks in doc.items()}
    log.warning(
        "credentials trust list: %s is neither a JWKS with iss nor an {iss: JWKS} map; skipped", path.name
    )
    return {}


def _crl_file(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("kid"), str) else None


def load_trust_dir(directory: Path | None) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Issuers (iss → JWKS) from ``*.json`` files and CRLs (kid → CRL) from ``crl/*.json`` in the trust folder."""
    trust: dict[str, dict[str, Any]] = {}
    crls: dict[str, dict[str, Any]] = {}
    if directory is None or not directory.is_dir():
        return trust, crls
    for path in sorted(directory.glob("*.json")):
        for iss, jwks in _trust_file(path).items():
            trust.setdefault(iss, {"keys": []})["keys"].extend(jwks["keys"])
    for path in sorted((directory / "crl").glob("*.json")):
        crl = _crl_file(path)
        if crl is not None:
            crls[crl["kid"]] = crl
    return trust, crls


@dataclass
class CredentialsContext:
    settings: Settings
    clock: Clock
    shc_key: ec.EllipticCurvePrivateKey = field(repr=False)
    rid_secret: bytes = field(repr=False)
    iss: str
    card_box: SealedBox = field(repr=False)  # seals the stored JWS (an overseas card holds a passport number)
    wallet_owner_key: bytes = field(repr=False)  # keys the browser wallet's pseudonym of a person
    trusted: dict[str, dict[str, Any]] = field(default_factory=dict)  # other issuers: iss → JWKS
    trusted_crls: dict[str, dict[str, Any]] = field(default_factory=dict)  # their CRLs: kid → CRL

    @cached_property
    def kid(self) -> str:
        return shc.thumbprint(shc.public_jwk(self.shc_key.public_key()))

    def public_jwk(self, crl_version: int = 0) -> dict[str, Any]:
        """The issuer's public JWK (``crlVersion`` once a card of the key has been revoked)."""
        return shc.public_jwk(self.shc_key.public_key(), crl_version=crl_version or None)

    def trust_list(self, crl_version: int = 0) -> dict[str, dict[str, Any]]:
        """Every issuer the verifier trusts: this platform's own key first, then the trust folder's."""
        trust = {iss: {"keys": list(jwks["keys"])} for iss, jwks in self.trusted.items()}
        own = trust.setdefault(self.iss, {"keys": []})
        own["keys"].insert(0, self.public_jwk(crl_version))
        return trust


def credentials_context(settings: Settings, clock: Clock) -> CredentialsContext:
    master = settings.master_secret()
    trusted, crls = load_trust_dir(settings.credentials_trust_dir)
    return CredentialsContext(
        settings=settings,
        clock=clock,
        shc_key=derive_issuer_key(master),
        rid_secret=derive_key(master, SHC_RID_PURPOSE),
        iss=issuer_url(settings.public_url),
        card_box=SealedBox(derive_key(master, SHC_SEAL_PURPOSE), b"credentials.shc.card"),
        wallet_owner_key=derive_key(master, WALLET_OWNER_PURPOSE),
        trusted=trusted,
        trusted_crls=crls,
    )
