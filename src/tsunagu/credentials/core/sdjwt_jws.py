"""Compact JWS with ES256 for SD-JWT VCs, KB-JWTs and status-list tokens (RFC 7515, RFC 7518 §3.4). Pure.

Only ``ES256`` is produced or accepted; keys travel as P-256 public JWKs (RFC 7517) and are turned into
``cryptography`` key objects here. Nothing in a header (``jwk``, ``jku``, ``x5u``) is ever trusted as a key: the
verifier looks the key up in its own trust list."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ALGORITHM = "ES256"
SIGNATURE_BYTES = 64  # r || s, 32 bytes each
_ECDSA = ec.ECDSA(hashes.SHA256())
_B64U = re.compile(r"[A-Za-z0-9_-]*")


class MalformedToken(ValueError):
    """Not a compact ES256 JWS of the expected shape; the message says what is wrong."""


@dataclass(frozen=True)
class ParsedToken:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    if not _B64U.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedToken("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the alphabet check catches these
        raise MalformedToken("not base64url") from exc
    if b64u(data) != text:  # unused low bits set: one value, one spelling (no malleable signatures)
        raise MalformedToken("not canonical base64url")
    return data


def compact_json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_b64u(text: str) -> str:
    """base64url(SHA-256(ASCII(text))): the SD-JWT digest of a disclosure and the KB-JWT ``sd_hash``."""
    return b64u(hashlib.sha256(text.encode("ascii")).digest())


def sign(header: dict[str, Any], payload: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> str:
    """The compact serialisation of ``payload`` under ``header`` (``alg`` is set to ES256) signed with ``key``."""
    head = b64u(compact_json({**header, "alg": ALGORITHM}))
    body = b64u(compact_json(payload))
    signing_input = f"{head}.{body}".encode("ascii")
    r, s = decode_dss_signature(key.sign(signing_input, _ECDSA))
    return f"{head}.{body}.{b64u(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64u_decode(part))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedToken(f"the {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise MalformedToken(f"the {what} is not a JSON object")
    return value


def parse(token: str) -> ParsedToken:
    """Split and decode a compact ES256 JWS without checking its signature (see :func:`verify`)."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise MalformedToken("a compact JWS has three non-empty parts separated by dots")
    header = _json_object(parts[0], "header")
    if header.get("alg") != ALGORITHM:
        raise MalformedToken(f"the algorithm must be {ALGORITHM}")
    if "crit" in header:
        raise MalformedToken("no critical header extension is understood")
    payload = _json_object(parts[1], "payload")
    signature = b64u_decode(parts[2])
    if len(signature) != SIGNATURE_BYTES:
        raise MalformedToken(f"an ES256 signature is {SIGNATURE_BYTES} bytes")
    return ParsedToken(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def verify(parsed: ParsedToken, key: ec.EllipticCurvePublicKey) -> bool:
    r = int.from_bytes(parsed.signature[:32], "big")
    s = int.from_bytes(parsed.signature[32:], "big")
    try:
        key.verify(encode_dss_signature(r, s), parsed.signing_input, _ECDSA)
    except InvalidSignature:
        return False
    return True


def public_jwk(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public JWK (``kty``, ``crv``, ``x``, ``y``) of a P-256 key."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    if not isinstance(public.curve, ec.SECP256R1):
        raise ValueError("only P-256 keys are used for ES256")
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64u(numbers.x.to_bytes(32, "big")),
        "y": b64u(numbers.y.to_bytes(32, "big")),
    }


def key_from_jwk(jwk: object) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a JWK; :class:`MalformedToken` for anything else (a private ``d`` is refused)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise MalformedToken("the key is not a P-256 JWK")
    if "d" in jwk:
        raise MalformedToken("a public JWK must not carry the private key")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise MalformedToken("the JWK lacks x or y")
    xb, yb = b64u_decode(x), b64u_decode(y)
    if len(xb) != 32 or len(yb) != 32:
        raise MalformedToken("P-256 coordinates are 32 bytes")
    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), ec.SECP256R1()
        ).public_key()
    except ValueError as exc:
        raise MalformedToken("the point is not on P-256") from exc


def jwk_thumbprint(jwk: dict[str, str]) -> str:
    """The RFC 7638 SHA-256 thumbprint of an EC public JWK (used as ``kid``)."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("ascii")
    return b64u(hashlib.sha256(canonical).digest())
