"""SMART Health Cards (spec.smarthealth.cards): payload, compact JWS (ES256, ``zip: DEF``, ``kid`` = RFC 7638
thumbprint), revocation ids and CRLs, the ``.smart-health-card`` file and the numeric ``shc:/`` QR text.

Pure: keys and times come in as arguments; nothing is read or written here.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

HEALTH_CARD = "https://smarthealth.cards#health-card"
IMMUNIZATION = "https://smarthealth.cards#immunization"
COVID19 = "https://smarthealth.cards#covid19"
VACCINATION_TYPES = (HEALTH_CARD, IMMUNIZATION, COVID19)
FHIR_VERSION = "4.0.1"
MAX_SINGLE_QR_JWS = 1195
MAX_CHUNK_JWS = 1191
QR_PREFIX = "shc:/"
MIME_TYPE = "application/smart-health-card"
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_CHUNKED = re.compile(r"shc:/([1-9][0-9]*)/([1-9][0-9]*)/([0-9]*)")
_SINGLE = re.compile(r"shc:/([0-9]*)")


class QrTooLarge(ValueError):
    """The JWS does not fit one QR code (version 22): refused with a message in Japanese and English."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.ja = (
            "接種記録が多すぎて1つのQRコードに収まりません"
            f"（署名済みデータ {length} 文字、上限 {MAX_SINGLE_QR_JWS} 文字）。"
        )
        self.en = (
            f"The record is too large for one QR code (signed data {length} characters,"
            f" limit {MAX_SINGLE_QR_JWS})."
        )
        super().__init__(f"{self.en} / {self.ja}")


class QrFormatError(ValueError):
    """Numeric ``shc:/`` text that cannot be decoded (bad header, digits, chunk index)."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict, canonical base64url without padding; raises ValueError on anything else."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:  # unused low bits set: another text for the same bytes
        raise ValueError("not canonical base64url")
    return data


def compact_json(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def deflate_raw(data: bytes) -> bytes:
    return zlib.compress(data, 9, wbits=-15)


def inflate_raw(data: bytes) -> bytes:
    """Raw DEFLATE (RFC 1951) inflate; raises ValueError when the data is not a complete raw deflate stream."""
    decompressor = zlib.decompressobj(-15)
    try:
        out = decompressor.decompress(data) + decompressor.flush()
    except zlib.error as exc:
        raise ValueError(f"not raw DEFLATE: {exc}") from exc
    if not decompressor.eof or decompressor.unused_data:
        raise ValueError("not a complete raw DEFLATE stream")
    return out


# --- keys ---------------------------------------------------------------------------------------------------


def _int_b64(n: int) -> str:
    return b64url_encode(n.to_bytes(32, "big"))


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint of an EC key: SHA-256 of ``{"crv","kty","x","y"}`` in lexical order, base64url."""
    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    return b64url_encode(hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest())


def public_jwk(key: ec.EllipticCurvePublicKey, *, crl_version: int | None = None) -> dict[str, Any]:
    """The public JWK an issuer serves at ``{iss}/.well-known/jwks.json``; ``crlVersion`` when it keeps a CRL."""
    numbers = key.public_numbers()
    jwk: dict[str, Any] = {"kty": "EC", "crv": "P-256", "x": _int_b64(numbers.x), "y": _int_b64(numbers.y)}
    jwk = {"kty": "EC", "kid": thumbprint(jwk), "use": "sig", "alg": "ES256", **jwk}
    if crl_version is not None:
        jwk["crlVersion"] = crl_version
    return jwk


def public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("not an EC P-256 key")
    return _p256_key(str(jwk["x"]), str(jwk["y"]))


@functools.lru_cache(maxsize=256)
def _p256_key(x: str, y: str) -> ec.EllipticCurvePublicKey:
    """Parsing a point checks it is on the curve (about 20 µs); a verifier sees the same few keys again and again."""
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(x), "big"), int.from_bytes(b64url_decode(y), "big"), ec.SECP256R1()
    )
    return numbers.public_key()


def private_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePrivateKey:
    public = public_key_from_jwk(jwk)
    d = int.from_bytes(b64url_decode(str(jwk["d"])), "big")
    return ec.EllipticCurvePrivateNumbers(d, public.public_numbers()).private_key()


# --- issuing ------------------------------------------------------------------------------------------------


def build_payload(
    *,
    iss: str,
    nbf: int,
    bundle: Mapping[str, Any],
    types: Sequence[str] = VACCINATION_TYPES,
    exp: int | None = None,
    rid: str | None = None,
) -> dict[str, Any]:
    """The JWS payload; ``iss`` is an https URL without a trailing slash and ``nbf``/``exp`` are whole seconds."""
    if not iss.startswith("https://") or iss.endswith("/"):
        raise ValueError("iss must be an https URL without a trailing slash")
    vc: dict[str, Any] = {
        "type": list(types),
        "credentialSubject": {"fhirVersion": FHIR_VERSION, "fhirBundle": dict(bundle)},
    }
    if rid is not None:
        vc["rid"] = rid
    payload: dict[str, Any] = {"iss": iss, "nbf": int(nbf)}
    if exp is not None:
        payload["exp"] = int(exp)
    payload["vc"] = vc
    return payload


def sign(payload: Mapping[str, Any], key: ec.EllipticCurvePrivateKey, kid: str | None = None) -> str:
    """Compact JWS: header ``{"alg":"ES256","zip":"DEF","kid":…}``, payload compact JSON then raw DEFLATE,
    signature raw r||s (64 bytes)."""
    header = _header(kid or thumbprint(public_jwk(key.public_key())))
    body = b64url_encode(deflate_raw(compact_json(payload)))
    signing_input = f"{header}.{body}".encode("ascii")
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return f"{header}.{body}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@functools.lru_cache(maxsize=64)
def _header(kid: str) -> str:
    return b64url_encode(compact_json({"alg": "ES256", "zip": "DEF", "kid": kid}))


def raw_to_der(signature: bytes) -> bytes:
    """A 64-byte r||s signature as DER, for ``cryptography``'s verify; ValueError on any other length."""
    if len(signature) != 64:
        raise ValueError("an ES256 signature is 64 bytes r||s")
    return encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))


# --- revocation ---------------------------------------------------------------------------------------------


def derive_rid(secret: bytes, kid: str, subject_id: str) -> str:
    """Revocation id: base64url of the first 64 bits of HMAC-SHA-256 over the patient's id, keyed by the
    issuer's secret followed by the key's kid (so a rid differs per signing key, as the spec recommends)."""
    mac = hmac.new(secret + kid.encode("ascii"), subject_id.encode("utf-8"), hashlib.sha256).digest()
    return b64url_encode(mac[:8])


def crl_document(kid: str, ctr: int, rids: Iterable[str]) -> dict[str, Any]:
    """``{iss}/.well-known/crl/{kid}.json``: ``rid`` or ``rid.timestamp`` (revokes cards with nbf before it)."""
    return {"kid": kid, "method": "rid", "ctr": ctr, "rids": list(rids)}


# --- file and QR text ---------------------------------------------------------------------------------------


def file_body(jws: Sequence[str]) -> bytes:
    """The ``.smart-health-card`` file (MIME ``application/smart-health-card``)."""
    return compact_json({"verifiableCredential": list(jws)})


def to_numeric(jws: str) -> str:
    """``shc:/`` followed by two digits per character (ord − 45); refuses a JWS that does not fit one QR."""
    if len(jws) > MAX_SINGLE_QR_JWS:
        raise QrTooLarge(len(jws))
    return QR_PREFIX + "".join(f"{ord(c) - 45:02d}" for c in jws)


def _digits_to_text(digits: str) -> str:
    if len(digits) % 2:
        raise QrFormatError("odd number of digits")
    out = []
    for i in range(0, len(digits), 2):
        value = int(digits[i : i + 2])
        if value > 77:
            raise QrFormatError(f"digit pair {value} is above 77")
        out.append(chr(value + 45))
    return "".join(out)


def from_numeric(chunks: Sequence[str]) -> str:
    """The JWS from one ``shc:/…`` text or from all chunks ``shc:/i/n/…`` of a (deprecated) multi-QR card, in any
    order; raises QrFormatError on a wrong header, bad digits or a bad chunk set."""
    if not chunks:
        raise QrFormatError("no QR text")
    if len(chunks) == 1 and (single := _SINGLE.fullmatch(chunks[0])):
        return _digits_to_text(single.group(1))
    parts: dict[int, str] = {}
    total = 0
    for chunk in chunks:
        match = _CHUNKED.fullmatch(chunk)
        if not match:
            raise QrFormatError("not shc:/ numeric text (wrong header or trailing characters)")
        index, count = int(match.group(1)), int(match.group(2))
        if total and count != total:
            raise QrFormatError("chunks disagree on their count")
        total = count
        if index > count or index in parts:
            raise QrFormatError(f"chunk index {index} out of range or repeated")
        parts[index] = match.group(3)
    if total == 1:
        raise QrFormatError("a single QR code carries no chunk index (shc:/1/1/ is wrong)")
    if len(parts) != total:
        raise QrFormatError(f"{len(parts)} of {total} chunks")
    texts = [_digits_to_text(parts[i]) for i in range(1, total + 1)]
    if any(len(t) > MAX_CHUNK_JWS for t in texts):
        raise QrFormatError(f"a chunk holds more than {MAX_CHUNK_JWS} characters")
    jws = "".join(texts)
    if total != -(-len(jws) // MAX_CHUNK_JWS):
        raise QrFormatError(
            f"{total} chunks where {-(-len(jws) // MAX_CHUNK_JWS)} would do (chunks too small)"
        )
    return jws
