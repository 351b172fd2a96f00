"""Compact JWS with ES256 (RFC 7515, RFC 7518 §3.4) for the linkage messages. Pure: keys come in as objects.

The payload is canonical JSON (sorted keys, no spaces, UTF-8), so equal messages give equal signing inputs. The
protected header is ``{"alg": "ES256", "kid": <agency code>, "typ": <message type>}``; nothing else is accepted
(no ``jku``, ``x5u`` or ``crit``: the signer's key is looked up by the hub, never taken from the message)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ALGORITHM = "ES256"
SIGNATURE_BYTES = 64  # r || s, 32 bytes each (RFC 7518 §3.4)
HEADER_FIELDS = frozenset({"alg", "kid", "typ"})
_ECDSA = ec.ECDSA(hashes.SHA256())


class MalformedJws(ValueError):
    """Not a compact ES256 JWS of the shape the linkage protocol uses; the message says what is wrong."""


@dataclass(frozen=True)
class ParsedJws:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        return str(self.header["kid"])

    @property
    def typ(self) -> str:
        return str(self.header["typ"])


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    if not _B64U.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedJws("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the alphabet check catches these
        raise MalformedJws("not base64url") from exc


_B64U = re.compile(r"[A-Za-z0-9_-]+")


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(payload: dict[str, Any], key: ec.EllipticCurvePrivateKey, kid: str, typ: str) -> str:
    """The compact serialisation of ``payload`` signed with ``key``."""
    header = b64u(canonical_json({"alg": ALGORITHM, "kid": kid, "typ": typ}))
    body = b64u(canonical_json(payload))
    signing_input = f"{header}.{body}".encode("ascii")
    r, s = decode_dss_signature(key.sign(signing_input, _ECDSA))
    return f"{header}.{body}.{b64u(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64u_decode(part))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedJws(f"the {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise MalformedJws(f"the {what} is not a JSON object")
    return value


def parse(token: str, max_bytes: int) -> ParsedJws:
    """Split and decode a compact JWS without checking the signature (see :func:`verify`)."""
    if len(token) > max_bytes:
        raise MalformedJws(f"the message is longer than {max_bytes} bytes")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise MalformedJws("a compact JWS has three parts separated by dots")
    if not parts[2]:
        raise MalformedJws("the message is not signed")
    header = _object(parts[0], "header")
    if set(header) != HEADER_FIELDS:
        raise MalformedJws(f"the header must have exactly {sorted(HEADER_FIELDS)}")
    if header["alg"] != ALGORITHM:
        raise MalformedJws(f"the algorithm must be {ALGORITHM}, not {header['alg']!r}")
    if not isinstance(header["kid"], str) or not isinstance(header["typ"], str):
        raise MalformedJws("kid and typ must be strings")
    payload = _object(parts[1], "payload")
    signature = b64u_decode(parts[2])
    if len(signature) != SIGNATURE_BYTES:
        raise MalformedJws(f"an ES256 signature is {SIGNATURE_BYTES} bytes")
    return ParsedJws(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def verify(parsed: ParsedJws, key: ec.EllipticCurvePublicKey) -> bool:
    r = int.from_bytes(parsed.signature[:32], "big")
    s = int.from_bytes(parsed.signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), parsed.signing_input, _ECDSA)
    except InvalidSignature:
        return False
    return True
