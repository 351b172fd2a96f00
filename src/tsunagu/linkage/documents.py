"""Documents an agency signs with its certified key: receipts (受付票), issued certificates such as 住民票の写し.

A document is a compact JWS (ES256) whose ``kid`` is the agency code; anyone holding the agency's certificate
(``/pki``: issued by the platform's AGENCY CA) can verify it offline. The payload is the caller's claims plus
``iss`` (the agency) and ``iat``; nothing here stores it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from tsunagu.kernel.errors import DomainError
from tsunagu.linkage.core import jws
from tsunagu.linkage.exchange.keyring import KeyRing

MAX_DOCUMENT_BYTES = 256 * 1024


class InvalidDocument(ValueError):
    """A document that is malformed, of another type, or whose signature does not verify."""


def sign_document(
    db: Session, ring: KeyRing, agency: str, typ: str, claims: dict[str, Any], *, at: dt.datetime
) -> str:
    """Sign ``claims`` as ``agency`` (``typ`` e.g. ``tsunagu-receipt+jwt``)."""
    payload = {"iss": agency, "iat": int(at.timestamp()), **claims}
    return jws.sign(payload, ring.signing_key(db, agency), agency, typ)


def verify_document(db: Session, ring: KeyRing, token: str, typ: str) -> dict[str, Any]:
    """The payload of a document signed by a live agency key; :class:`InvalidDocument` otherwise."""
    try:
        parsed = jws.parse(token, MAX_DOCUMENT_BYTES)
    except jws.MalformedJws as exc:
        raise InvalidDocument(str(exc)) from exc
    if parsed.typ != typ:
        raise InvalidDocument(f"expected a {typ}, got {parsed.typ}")
    try:
        key = ring.verification_key(db, parsed.kid)
    except DomainError as exc:  # unknown agency, inactive, no live certificate
        raise InvalidDocument(f"no live certificate for {parsed.kid}: {exc.detail}") from exc
    if not jws.verify(parsed, key):
        raise InvalidDocument("the signature does not verify with the agency's key")
    payload = dict(parsed.payload)
    if payload.get("iss") != parsed.kid:
        raise InvalidDocument("the issuer does not match the signing agency")
    return payload
