"""The SD-JWT VC verifier (RFC 9901 §7, draft-ietf-oauth-sd-jwt-vc §3.4, Token Status List §8). Pure.

:func:`verify` answers a :class:`Verification`: ``valid`` with the disclosed claims, or the first failure as a
:class:`Reason` with a Japanese and an English message. Every check runs inside one guard: an unexpected shape
anywhere is reported ``MALFORMED``, never valid.

Order of the checks: shape → issuer JWT ``typ`` → trusted issuer and key → issuer signature → validity period →
disclosures (each digest referenced exactly once) → key binding (``cnf`` → KB-JWT ``typ``, signature, ``aud``,
``nonce``, ``sd_hash``, age) → status list → required claims.

``typ``: only ``dc+sd-jwt``. The legacy ``vc+sd-jwt`` (drafts up to -05, still sent by early EUDI pilot wallets)
is accepted only when the caller passes ``accept_legacy_typ=True``, because the media type changed to avoid a clash
with the W3C VC media types, not because the format did."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tsunagu.credentials.core.sdjwt import (
    KB_TYP,
    RESERVED_NAMES,
    SD_ALG,
    TYP,
    ClaimPath,
    Disclosure,
    decode_disclosure,
    split,
)
from tsunagu.credentials.core.sdjwt_jws import MalformedToken, ParsedToken, key_from_jwk, parse, sha256_b64u
from tsunagu.credentials.core.sdjwt_jws import verify as verify_signature
from tsunagu.credentials.core.sdjwt_reasons import MESSAGES, Reason
from tsunagu.credentials.core.statuslist import Status, StatusListError, decode_token

__all__ = ["MESSAGES", "Policy", "Reason", "StatusLookup", "Verification", "describe", "trust_list", "verify"]

LEGACY_TYP = "vc+sd-jwt"
MAX_PRESENTATION_BYTES = 64 * 1024


StatusLookup = Callable[[str, int], int]
"""``(uri, idx) → status value``; raise ``LookupError`` when the list cannot be had."""


@dataclass(frozen=True)
class Verification:
    valid: bool
    reason: Reason | None = None
    detail: str = ""
    claims: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "ja") -> str:
        if self.reason is None:
            return "有効です。" if lang == "ja" else "Valid."
        ja, en = MESSAGES[self.reason]
        return ja if lang == "ja" else en


class _Rejected(Exception):
    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _as_path(path: str | ClaimPath) -> ClaimPath:
    return (path,) if isinstance(path, str) else tuple(path)


@dataclass(frozen=True)
class Policy:
    """What the verifier expects of a presentation."""

    trust: Mapping[str, Mapping[str, Any]]  # iss → JWKS ({"keys": [{…, "kid": …}]})
    aud: str
    nonce: str
    now: int
    status: StatusLookup | str | None = None  # a lookup, or a status-list JWT from the issuer
    required: tuple[ClaimPath, ...] = ()
    max_kb_age: int = 300
    leeway: int = 30
    require_key_binding: bool = True
    accept_legacy_typ: bool = False


def trust_list(iss: str, keys: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """A one-issuer trust list from ``kid`` → public JWK (the ``kid`` is written into each key)."""
    return {iss: {"keys": [{**dict(jwk), "kid": kid} for kid, jwk in keys.items()]}}


def verify(
    presentation: str,
    *,
    trust: Mapping[str, Mapping[str, Any]],
    aud: str,
    nonce: str,
    now: int,
    status: StatusLookup | str | None = None,
    required: Iterable[str | ClaimPath] = (),
    max_kb_age: int = 300,
    leeway: int = 30,
    require_key_binding: bool = True,
    accept_legacy_typ: bool = False,
) -> Verification:
    """Verify an SD-JWT VC presentation against a trust list (iss → JWKS) and the verifier's expectations.

    ``status`` is needed whenever the credential carries a status reference: without one the answer is
    ``STATUS_UNAVAILABLE``, never valid."""
    policy = Policy(
        trust, aud, nonce, now, status, tuple(_as_path(p) for p in required), max_kb_age, leeway,
        require_key_binding, accept_legacy_typ,
    )  # fmt: skip
    try:
        return Verification(True, claims=_verify(presentation, policy))
    except _Rejected as rejected:
        return Verification(False, rejected.reason, rejected.detail)
    except Exception as exc:  # whatever an odd input breaks, the answer is "malformed", never valid
        return Verification(False, Reason.MALFORMED, type(exc).__name__)


def _verify(presentation: str, policy: Policy) -> dict[str, Any]:
    if len(presentation) > MAX_PRESENTATION_BYTES:
        raise _Rejected(Reason.MALFORMED, "the presentation is too large")
    try:
        parts = split(presentation.strip())
        issuer = parse(parts.issuer_jwt)
    except MalformedToken as exc:
        raise _Rejected(Reason.MALFORMED, str(exc)) from exc
    payload = _check_issuer(issuer, policy)
    _check_period(payload, policy)
    claims = _disclose(payload, parts.disclosures)
    _check_key_binding(payload, parts.key_binding, parts.without_key_binding, policy)
    _check_status(payload, policy)
    for path in policy.required:
        if not _has(claims, path):
            raise _Rejected(Reason.REQUIRED_CLAIM_MISSING, "/".join(map(str, path)))
    return claims


def _check_issuer(issuer: ParsedToken, policy: Policy) -> dict[str, Any]:
    typ = issuer.header.get("typ")
    if typ != TYP and not (policy.accept_legacy_typ and typ == LEGACY_TYP):
        raise _Rejected(Reason.WRONG_TYP, f"typ is {typ!r}, not {TYP}")
    payload = issuer.payload
    iss = payload.get("iss")
    if not isinstance(iss, str) or not isinstance(payload.get("vct"), str):
        raise _Rejected(Reason.MALFORMED, "iss and vct are required strings")
    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        raise _Rejected(Reason.MALFORMED, f"only {SD_ALG} digests are accepted")
    jwks = policy.trust.get(iss)
    if jwks is None:
        raise _Rejected(Reason.UNKNOWN_ISSUER, iss)
    kid = issuer.header.get("kid")
    jwk = next((k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kid") == kid), None)
    if jwk is None:
        raise _Rejected(Reason.UNKNOWN_KEY, str(kid))
    if not verify_signature(issuer, key_from_jwk(jwk)):
        raise _Rejected(Reason.BAD_ISSUER_SIGNATURE)
    return payload


def _number(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Rejected(Reason.MALFORMED, f"{name} must be a number")
    return int(value)


def _check_period(payload: dict[str, Any], policy: Policy) -> None:
    iat, nbf, exp = _number(payload, "iat"), _number(payload, "nbf"), _number(payload, "exp")
    if nbf is not None and nbf > policy.now + policy.leeway:
        raise _Rejected(Reason.NOT_YET_VALID, "nbf is in the future")
    if iat is not None and iat > policy.now + policy.leeway:
        raise _Rejected(Reason.NOT_YET_VALID, "iat is in the future")
    if exp is not None and exp <= policy.now - policy.leeway:
        raise _Rejected(Reason.EXPIRED)


class _Discloser:
    """Replaces digests by the disclosed values (RFC 9901 §7.1 steps 3-5)."""

    def __init__(self, disclosures: Iterable[str]) -> None:
        self.by_digest: dict[str, Disclosure] = {}
        for encoded in disclosures:
            try:
                disclosure = decode_disclosure(encoded)
            except MalformedToken as exc:
                raise _Rejected(Reason.MALFORMED, str(exc)) from exc
            if disclosure.digest in self.by_digest:
                raise _Rejected(Reason.DUPLICATE_DISCLOSURE)
            self.by_digest[disclosure.digest] = disclosure
        self.seen: set[str] = set()
        self.used: set[str] = set()

    def _digest(self, digest: object) -> Disclosure | None:
        if not isinstance(digest, str):
            raise _Rejected(Reason.MALFORMED, "a digest must be a string")
        if digest in self.seen:
            raise _Rejected(Reason.DUPLICATE_DIGEST)
        self.seen.add(digest)
        disclosure = self.by_digest.get(digest)
        if disclosure is not None:
            self.used.add(digest)
        return disclosure

    def value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self._object(value)
        if isinstance(value, list):
            return self._array(value)
        return value

    def _object(self, value: dict[str, Any]) -> dict[str, Any]:
        out = {name: self.value(item) for name, item in value.items() if name not in ("_sd", "_sd_alg")}
        if "..." in out:
            raise _Rejected(Reason.MALFORMED, "'...' is not a claim name")
        digests = value.get("_sd", [])
        if not isinstance(digests, list):
            raise _Rejected(Reason.MALFORMED, "_sd must be an array")
        for digest in digests:
            disclosure = self._digest(digest)
            if disclosure is None:
                continue  # undisclosed or a decoy
            if disclosure.name is None:
                raise _Rejected(Reason.MALFORMED, "an array-element disclosure sits in an object's _sd")
            if disclosure.name in out:
                raise _Rejected(
                    Reason.MALFORMED, f"{disclosure.name!r} is disclosed and also plainly present"
                )
            out[disclosure.name] = self.value(disclosure.value)
        return out

    def _array(self, value: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in value:
            if isinstance(item, dict) and "..." in item:
                if len(item) != 1:
                    raise _Rejected(Reason.MALFORMED, "an array digest object has only '...'")
                disclosure = self._digest(item["..."])
                if disclosure is None:
                    continue
                if disclosure.name is not None:
                    raise _Rejected(Reason.MALFORMED, "an object-member disclosure sits in an array")
                out.append(self.value(disclosure.value))
            else:
                out.append(self.value(item))
        return out


def _disclose(payload: dict[str, Any], disclosures: Iterable[str]) -> dict[str, Any]:
    discloser = _Discloser(disclosures)
    claims = discloser.value(payload)
    if set(discloser.by_digest) - discloser.used:
        raise _Rejected(Reason.DISCLOSURE_NOT_IN_PAYLOAD)
    if not isinstance(claims, dict) or RESERVED_NAMES & set(claims):
        raise _Rejected(Reason.MALFORMED)
    return claims


def _check_key_binding(payload: dict[str, Any], kb_jwt: str, presented: str, policy: Policy) -> None:
    cnf = payload.get("cnf")
    if cnf is None:
        if kb_jwt:
            raise _Rejected(Reason.MALFORMED, "a key binding without a cnf key in the credential")
        if policy.require_key_binding:
            raise _Rejected(Reason.MISSING_KEY_BINDING, "the credential is bound to no holder key")
        return
    if not isinstance(cnf, dict) or "jwk" not in cnf:
        raise _Rejected(Reason.MALFORMED, "cnf must hold a jwk")
    if not kb_jwt:
        raise _Rejected(Reason.MISSING_KEY_BINDING)
    try:
        kb = parse(kb_jwt)
        holder_key = key_from_jwk(cnf["jwk"])
    except MalformedToken as exc:
        raise _Rejected(Reason.MALFORMED, f"key binding: {exc}") from exc
    if kb.header.get("typ") != KB_TYP:
        raise _Rejected(Reason.WRONG_TYP, f"the key binding's typ must be {KB_TYP}")
    if not verify_signature(kb, holder_key):
        raise _Rejected(Reason.BAD_KB_SIGNATURE)
    _check_kb_claims(kb.payload, presented, policy)


def _check_kb_claims(claims: dict[str, Any], presented: str, policy: Policy) -> None:
    if claims.get("aud") != policy.aud:
        raise _Rejected(Reason.WRONG_AUDIENCE)
    if claims.get("nonce") != policy.nonce:
        raise _Rejected(Reason.WRONG_NONCE)
    if claims.get("sd_hash") != sha256_b64u(presented):
        raise _Rejected(Reason.SD_HASH_MISMATCH)
    iat = _number(claims, "iat")
    if iat is None:
        raise _Rejected(Reason.MALFORMED, "the key binding has no iat")
    if iat > policy.now + policy.leeway:
        raise _Rejected(Reason.KB_FROM_FUTURE)
    if policy.now - iat > policy.max_kb_age:
        raise _Rejected(Reason.KB_TOO_OLD)


def _check_status(payload: dict[str, Any], policy: Policy) -> None:
    if "status" not in payload:
        return
    reference = payload["status"].get("status_list")
    if not isinstance(reference, dict):
        raise _Rejected(Reason.MALFORMED, "status.status_list is required in status")
    idx, uri = reference.get("idx"), reference.get("uri")
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0 or not isinstance(uri, str):
        raise _Rejected(Reason.MALFORMED, "status_list needs an integer idx and a uri")
    value = _status_value(payload, uri, idx, policy)
    if value == Status.SUSPENDED:
        raise _Rejected(Reason.SUSPENDED)
    if value != Status.VALID:
        raise _Rejected(Reason.REVOKED, f"status {value}")


def _status_value(payload: dict[str, Any], uri: str, idx: int, policy: Policy) -> int:
    source = policy.status
    if source is None:
        raise _Rejected(Reason.STATUS_UNAVAILABLE, "no status list was given")
    if callable(source):
        try:
            return int(source(uri, idx))
        except LookupError as exc:
            raise _Rejected(Reason.STATUS_UNAVAILABLE, str(exc)) from exc
    iss = payload["iss"]
    keys = {str(k["kid"]): k for k in policy.trust[iss].get("keys", []) if isinstance(k, dict) and "kid" in k}
    try:
        token = decode_token(source, keys=keys, now=policy.now, uri=uri, iss=iss)
        return token.status_list.get(idx)
    except (StatusListError, IndexError) as exc:
        raise _Rejected(Reason.STATUS_UNAVAILABLE, str(exc)) from exc


def _has(claims: Any, path: ClaimPath) -> bool:
    for step in path:
        in_object = isinstance(step, str) and isinstance(claims, dict) and step in claims
        in_array = isinstance(step, int) and isinstance(claims, list) and 0 <= step < len(claims)
        if not (in_object or in_array):
            return False
        claims = claims[step]
    return True


def describe(result: Verification) -> str:
    """One line for logs and the CLI: ``valid`` or ``<reason>: <detail>`` (no claim values)."""
    if result.valid:
        return "valid"
    return json.dumps({"reason": str(result.reason), "detail": result.detail}, ensure_ascii=False)
