"""Verify a SMART Health Card against a trust list (issuer → JWKS) at a given time.

Input: the bytes of a ``.smart-health-card`` file, a compact JWS, or numeric ``shc:/`` text (one or several chunks,
one per line). The result carries every reason found, each with a Japanese and an English message; a card is valid
only when there is none. Trust comes from the list of keys given to the verifier. A key that carries an ``x5c``
chain must also pass :func:`x5c.x5c_problems` (leaf key = JWK, chain signatures, the issuer URL as the leaf's URI
subjectAltName, validity at the card's ``nbf``), or the card is refused with ``unknown_key``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.core import fhir, shc, x5c

MILLISECONDS_FROM = 10**11  # a NumericDate above this (year 5138) is taken to be in milliseconds


class Reason(StrEnum):
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_ISSUER = "unknown_issuer"
    UNKNOWN_KEY = "unknown_key"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    INVALID_FHIR = "invalid_fhir"
    INVALID_CRL = "invalid_crl"


MESSAGES: dict[Reason, tuple[str, str]] = {
    Reason.MALFORMED: ("形式が正しくありません", "The credential is malformed"),
    Reason.BAD_SIGNATURE: ("署名が正しくありません", "The signature is not valid"),
    Reason.UNKNOWN_ISSUER: ("信頼できる発行者ではありません", "The issuer is not trusted"),
    Reason.UNKNOWN_KEY: ("発行者の鍵が見つかりません", "The issuer has no such signing key"),
    Reason.NOT_YET_VALID: ("まだ有効ではありません", "The credential is not valid yet"),
    Reason.EXPIRED: ("有効期限が切れています", "The credential has expired"),
    Reason.REVOKED: ("失効しています", "The credential has been revoked"),
    Reason.INVALID_FHIR: ("記録の内容が正しくありません", "The health record is not a valid FHIR bundle"),
    Reason.INVALID_CRL: (
        "発行者の失効リストが正しくないため、失効を確認できません",
        "The issuer's revocation list is invalid, so revocation cannot be checked",
    ),
}


@dataclass(frozen=True)
class Finding:
    reason: Reason
    detail: str

    @property
    def ja(self) -> str:
        return MESSAGES[self.reason][0]

    @property
    def en(self) -> str:
        return MESSAGES[self.reason][1]

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.reason.value, "ja": self.ja, "en": self.en, "detail": self.detail}


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    payload: dict[str, Any] | None = None
    header: dict[str, Any] | None = None
    jws: str | None = None

    @property
    def valid(self) -> bool:
        return not self.findings and self.payload is not None

    @property
    def reasons(self) -> list[Reason]:
        return list(dict.fromkeys(f.reason for f in self.findings))

    def add(self, reason: Reason, detail: str) -> None:
        self.findings.append(Finding(reason, detail))

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "reasons": [r.value for r in self.reasons],
            "findings": [f.as_dict() for f in self.findings],
            "payload": self.payload,
        }


class _Malformed(ValueError):
    pass


def _to_text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed("not UTF-8 text") from exc


def extract_jws(data: bytes | str) -> list[str]:
    """The JWS(s) in a ``.smart-health-card`` file, a compact JWS or ``shc:/`` text; strict about stray characters
    (a byte-order mark or surrounding whitespace is malformed). Raises ValueError."""
    text = _to_text(data)
    if text.startswith("\ufeff"):
        raise _Malformed("starts with a byte-order mark")
    if text != text.strip():
        raise _Malformed("leading or trailing characters")
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise _Malformed(f"not JSON: {exc}") from exc
        vcs = doc.get("verifiableCredential") if isinstance(doc, dict) else None
        if not isinstance(vcs, list) or not vcs or not all(isinstance(v, str) for v in vcs):
            raise _Malformed("no verifiableCredential list of JWS")
        return vcs
    if text.lower().startswith("shc:/"):
        try:
            return [shc.from_numeric(text.split("\n"))]
        except shc.QrFormatError as exc:
            raise _Malformed(f"QR text: {exc}") from exc
    return [text]


def _decode_part(part: str, what: str) -> bytes:
    try:
        return shc.b64url_decode(part)
    except ValueError as exc:
        raise _Malformed(f"{what}: not base64url") from exc


def _parse_jws(jws: str, result: Result) -> tuple[tuple[bytes, bytes], dict[str, Any], str]:
    parts = jws.split(".")
    if len(parts) != 3:
        raise _Malformed("not a compact JWS (three parts)")
    try:
        header = json.loads(_decode_part(parts[0], "header"))
    except ValueError as exc:
        raise _Malformed(f"header: {exc}") from exc
    if not isinstance(header, dict):
        raise _Malformed("header is not a JSON object")
    result.header = header
    if header.get("alg") != "ES256":
        raise _Malformed("header alg is not ES256")
    if header.get("zip") != "DEF":
        raise _Malformed("header zip is not DEF")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise _Malformed("header has no kid")
    try:
        raw = shc.inflate_raw(_decode_part(parts[1], "payload"))
        if raw.startswith(b"\xef\xbb\xbf"):
            raise _Malformed("payload starts with a byte-order mark")
        if raw != raw.strip():
            raise _Malformed("payload has leading or trailing characters")
        payload = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise _Malformed(f"payload: {exc}") from exc
    if not isinstance(payload, dict):
        raise _Malformed("payload is not a JSON object")
    result.payload = payload
    return (f"{parts[0]}.{parts[1]}".encode("ascii"), _decode_part(parts[2], "signature")), payload, kid


def key_problems(jwk: Mapping[str, Any]) -> list[str]:
    """Why a JWK cannot sign health cards (empty when it can): EC P-256, ES256, use sig, kid = thumbprint."""
    wanted = {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig"}
    problems = [f"{k} is {jwk.get(k)!r}, not {v!r}" for k, v in wanted.items() if jwk.get(k) != v]
    if problems:
        return problems
    try:
        shc.public_key_from_jwk(jwk)
        if shc.thumbprint(jwk) != jwk.get("kid"):
            problems.append("kid is not the key's RFC 7638 thumbprint")
    except (ValueError, KeyError) as exc:
        problems.append(f"not a usable P-256 key: {exc}")
    return problems


def _check_signature(
    signed: tuple[bytes, bytes],
    kid: str,
    payload: Mapping[str, Any],
    trust: Mapping[str, Mapping[str, Any]],
    result: Result,
) -> None:
    iss = payload.get("iss")
    signing_input, signature = signed
    jwks = trust.get(iss) if isinstance(iss, str) else None
    if jwks is None:
        result.add(Reason.UNKNOWN_ISSUER, f"issuer {iss!r} is not in the trust list")
        return
    key = _signing_key(payload, kid, trust)
    if key is None:
        result.add(Reason.UNKNOWN_KEY, f"issuer {iss} has no key {kid}")
        return
    nbf = payload.get("nbf")
    signed_at = float(nbf) if isinstance(nbf, int | float) and not isinstance(nbf, bool) else None
    if problems := key_problems(key) or x5c.x5c_problems(key, issuer=iss, at=signed_at):
        result.add(Reason.UNKNOWN_KEY, f"key {kid} of {iss}: {'; '.join(problems)}")
        return
    try:
        shc.public_key_from_jwk(key).verify(
            shc.raw_to_der(signature), signing_input, ec.ECDSA(hashes.SHA256())
        )
    except (InvalidSignature, ValueError):
        result.add(
            Reason.BAD_SIGNATURE, f"ES256 signature ({len(signature)} bytes) does not verify with {kid}"
        )


def _numeric_date(payload: Mapping[str, Any], name: str, result: Result) -> float | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        result.add(Reason.MALFORMED, f"{name} is not a NumericDate")
        return None
    if value >= MILLISECONDS_FROM:
        result.add(Reason.MALFORMED, f"{name} looks like milliseconds, not seconds")
        return None
    return float(value)


def _check_claims(payload: Mapping[str, Any], at: int, result: Result) -> None:
    iss = payload.get("iss")
    if not isinstance(iss, str) or not iss.startswith("https://") or iss.endswith("/"):
        result.add(Reason.MALFORMED, "iss must be an https URL without a trailing slash")
    if "nbf" not in payload:
        result.add(Reason.MALFORMED, "no nbf")
    nbf = _numeric_date(payload, "nbf", result)
    if nbf is not None and nbf > at:
        result.add(Reason.NOT_YET_VALID, f"nbf {nbf:.0f} is after {at}")
    exp = _numeric_date(payload, "exp", result)
    if exp is not None and exp <= at:
        result.add(Reason.EXPIRED, f"exp {exp:.0f} is not after {at}")
    vc = payload.get("vc")
    if not isinstance(vc, dict):
        result.add(Reason.MALFORMED, "no vc object")
        return
    types = vc.get("type")
    if not isinstance(types, list) or shc.HEALTH_CARD not in types:
        result.add(Reason.MALFORMED, f"vc.type lacks {shc.HEALTH_CARD}")
        return
    subject = vc.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("fhirVersion") != shc.FHIR_VERSION:
        result.add(Reason.INVALID_FHIR, "credentialSubject.fhirVersion is not 4.0.1")
        return
    immunization = shc.IMMUNIZATION in types
    for problem in fhir.bundle_problems(subject.get("fhirBundle"), immunization=immunization):
        result.add(Reason.INVALID_FHIR, problem)


RID_MAX = 24  # SMART Health Cards: a rid is base64url, at most 24 characters
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def crl_problems(crl: Mapping[str, Any], jwk: Mapping[str, Any] | None) -> list[str]:
    """Why a CRL document cannot be used (empty when it can): method ``rid``, ``ctr`` equal to the key's
    ``crlVersion`` when the key has one, every rid base64url and at most 24 characters with an optional integer
    ``.timestamp``, each rid listed once."""
    problems: list[str] = []
    if crl.get("method") != "rid":
        problems.append(f"method is {crl.get('method')!r}, not 'rid'")
    version = jwk.get("crlVersion") if jwk is not None else None
    if version is not None and crl.get("ctr") != version:
        problems.append(f"ctr {crl.get('ctr')!r} is not the key's crlVersion {version!r}")
    rids = crl.get("rids")
    if not isinstance(rids, list):
        return [*problems, "rids is not a list"]
    seen: set[str] = set()
    for entry in rids:
        rid, dot, stamp = str(entry).partition(".")
        if not rid or len(rid) > RID_MAX or not set(rid) <= _B64URL:
            problems.append(f"rid {str(entry)[:40]!r} is not base64url of at most {RID_MAX} characters")
        elif dot and not stamp.isdigit():
            problems.append(f"rid {rid} has a timestamp {stamp!r} that is not an integer")
        if rid in seen:
            problems.append(f"rid {rid} is listed more than once")
        seen.add(rid)
    return problems


def _signing_key(payload: Mapping[str, Any], kid: str, trust: Mapping[str, Mapping[str, Any]]) -> Any:
    iss = payload.get("iss")
    jwks = trust.get(iss) if isinstance(iss, str) else None
    keys = jwks.get("keys", []) if isinstance(jwks, Mapping) else []
    return next((k for k in keys if isinstance(k, dict) and k.get("kid") == kid), None)


def _check_revocation(
    payload: Mapping[str, Any],
    kid: str,
    crls: Mapping[str, Mapping[str, Any]],
    trust: Mapping[str, Mapping[str, Any]],
    result: Result,
) -> None:
    crl = crls.get(kid)
    if crl is None:
        return
    if problems := crl_problems(crl, _signing_key(payload, kid, trust)):
        result.add(Reason.INVALID_CRL, f"CRL of {kid}: {'; '.join(problems)}")
        return
    vc = payload.get("vc")
    rid = vc.get("rid") if isinstance(vc, dict) else None
    if rid is None:
        return
    nbf = payload.get("nbf")
    for entry in crl.get("rids", []):
        revoked, _, stamp = str(entry).partition(".")
        if revoked != rid:
            continue
        if not stamp or (stamp.isdigit() and isinstance(nbf, int | float) and nbf < int(stamp)):
            result.add(Reason.REVOKED, f"rid {rid} is in the CRL of {kid}")
            return


def verify_jws(
    jws: str,
    trust: Mapping[str, Mapping[str, Any]],
    at: int,
    crls: Mapping[str, Mapping[str, Any]] | None = None,
) -> Result:
    result = Result(jws=jws)
    try:
        signed, payload, kid = _parse_jws(jws, result)
    except _Malformed as exc:
        result.add(Reason.MALFORMED, str(exc))
        return result
    _check_signature(signed, kid, payload, trust, result)
    _check_claims(payload, at, result)
    _check_revocation(payload, kid, crls or {}, trust, result)
    return result


def verify(
    data: bytes | str,
    trust: Mapping[str, Mapping[str, Any]],
    at: int,
    crls: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Result]:
    """One result per JWS in the input (a file may hold several); a single malformed result when none can be read."""
    try:
        jws_list: Sequence[str] = extract_jws(data)
    except _Malformed as exc:
        result = Result()
        result.add(Reason.MALFORMED, str(exc))
        return [result]
    return [verify_jws(jws, trust, at, crls) for jws in jws_list]
