"""Checks on an issuer key's ``x5c`` certificate chain (SMART Health Cards 1.4, "Issuer keys with X.509"). Pure.

A key without ``x5c`` is trusted through the verifier's key list alone. A key with one is usable only when:
the chain parses (base64, not base64url, DER certificates, leaf first); the leaf's public key is the JWK's key; each
certificate is signed by the next one and the last signs itself; the leaf's subjectAltName holds a
uniformResourceIdentifier equal to the issuer URL; and every certificate was within its validity period at the time
the card says it was issued (``nbf``) — a card signed under a certificate that has since expired still verifies, one
signed outside the period does not. Trust in the root comes from the key list itself, as for keys without a chain.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from tsunagu.credentials.core import shc

MAX_CHAIN = 5


def _certificates(jwk: Mapping[str, Any]) -> tuple[list[x509.Certificate], list[str]]:
    chain = jwk.get("x5c")
    if not isinstance(chain, list) or not chain or len(chain) > MAX_CHAIN:
        return [], [f"x5c must be a list of 1 to {MAX_CHAIN} certificates"]
    certs: list[x509.Certificate] = []
    for n, text in enumerate(chain):
        try:
            certs.append(x509.load_der_x509_certificate(base64.b64decode(str(text), validate=True)))
        except (binascii.Error, ValueError) as exc:
            return [], [f"x5c[{n}] is not a base64 DER certificate: {exc}"]
    return certs, []


def _uris(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(u) for u in san.get_values_for_type(x509.UniformResourceIdentifier)]


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def x5c_problems(jwk: Mapping[str, Any], *, issuer: str | None = None, at: float | None = None) -> list[str]:
    """Why the key's certificate chain makes it unusable (empty when it has none or it is sound).

    ``issuer``: the card's ``iss`` (the leaf's URI subjectAltName must equal it); ``at``: the card's ``nbf``."""
    if "x5c" not in jwk:
        return []
    certs, problems = _certificates(jwk)
    if problems:
        return problems
    leaf = certs[0]
    try:
        if leaf.public_key() != shc.public_key_from_jwk(jwk):
            problems.append("the x5c leaf certificate holds another public key than the JWK")
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"the x5c leaf certificate's key cannot be compared: {exc}")
    for n, (cert, parent) in enumerate(itertools.pairwise(certs)):
        if not _signed_by(cert, parent):
            problems.append(f"x5c[{n}] is not signed by x5c[{n + 1}]")
    if not _signed_by(certs[-1], certs[-1]):
        problems.append(f"x5c[{len(certs) - 1}], the last certificate, is not self-signed")
    uris = _uris(leaf)
    if not uris:
        problems.append("the x5c leaf certificate has no uniformResourceIdentifier subjectAltName")
    elif issuer is not None and issuer not in uris:
        problems.append(f"the x5c leaf certificate names {', '.join(uris)}, not the issuer {issuer}")
    if at is not None:
        when = dt.datetime.fromtimestamp(at, dt.UTC)
        for n, cert in enumerate(certs):
            if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
                problems.append(
                    f"x5c[{n}] was not valid at nbf {when:%Y-%m-%d} "
                    f"({cert.not_valid_before_utc:%Y-%m-%d}–{cert.not_valid_after_utc:%Y-%m-%d})"
                )
    return problems
