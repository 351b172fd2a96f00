"""SD-JWT VC issuance and presentation (RFC 9901 SD-JWT; draft-ietf-oauth-sd-jwt-vc). Pure: keys come in as objects.

An issued credential is ``<issuer-jwt>~<disclosure>~…~`` (every disclosure); a presentation keeps only the
disclosures the holder chose and ends with a key-binding JWT: ``<issuer-jwt>~<chosen>~…~<kb-jwt>``.

- A disclosure is base64url(JSON ``[salt, name, value]``) for an object member, ``[salt, value]`` for an array
  element; its digest is base64url(SHA-256(the ASCII disclosure string)) (RFC 9901 §4.2). Object members hide
  behind ``"_sd": [digest, …]``, array elements are replaced by ``{"...": digest}`` in place.
- Salts are 128 bits from :mod:`secrets`. ``_sd`` arrays are sorted, so the order gives nothing away, and may hold
  decoy digests (§4.2.5).
- A claim path is a tuple of member names and array indices, e.g. ``("address", "locality")`` or
  ``("nationalities", 0)``; a plain string is a top-level member. Disclosing a member discloses what it contains.
- The always-visible claims (``iss``, ``iat``, ``nbf``, ``exp``, ``vct``, ``cnf``, ``status``) are never disclosable
  (SD-JWT VC §3.2.2.2), and the issuer JWT's header is ``{"alg": "ES256", "typ": "dc+sd-jwt", "kid": …}``.

The verifier is :mod:`tsunagu.credentials.core.sdjwt_verify`."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.core.sdjwt_jws import (
    MalformedToken,
    b64u,
    b64u_decode,
    parse,
    public_jwk,
    sha256_b64u,
    sign,
)

TYP = "dc+sd-jwt"
KB_TYP = "kb+jwt"
SD_ALG = "sha-256"
SALT_BYTES = 16  # 128 bits (RFC 9901 §9.3)
ALWAYS_VISIBLE = frozenset({"iss", "iat", "nbf", "exp", "vct", "cnf", "status"})
RESERVED_NAMES = frozenset({"_sd", "...", "_sd_alg"})

ClaimPath: TypeAlias = tuple[str | int, ...]


@dataclass(frozen=True)
class Disclosure:
    """One decoded disclosure: ``name`` is ``None`` for an array element."""

    encoded: str
    salt: str
    name: str | None
    value: Any

    @property
    def digest(self) -> str:
        return sha256_b64u(self.encoded)


@dataclass(frozen=True)
class StatusReference:
    """A Token Status List entry: index ``idx`` in the list published at ``uri``."""

    idx: int
    uri: str

    def claim(self) -> dict[str, Any]:
        return {"status_list": {"idx": self.idx, "uri": self.uri}}


def make_disclosure(name: str | None, value: Any, salt: str | None = None) -> Disclosure:
    """A new disclosure; the salt is fresh unless given (tests reproduce the spec's examples with it).

    The JSON is written as the spec's examples are (``", "`` between elements, non-ASCII kept as UTF-8)."""
    salt = salt if salt is not None else b64u(secrets.token_bytes(SALT_BYTES))
    content: list[Any] = [salt, value] if name is None else [salt, name, value]
    encoded = b64u(json.dumps(content, ensure_ascii=False).encode("utf-8"))
    return Disclosure(encoded, salt, name, value)


def decode_disclosure(encoded: str) -> Disclosure:
    """Parse a disclosure; :class:`MalformedToken` unless it is ``[salt, name, value]`` or ``[salt, value]``."""
    try:
        content = json.loads(b64u_decode(encoded))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedToken("a disclosure is not base64url JSON") from exc
    if not isinstance(content, list) or len(content) not in (2, 3) or not isinstance(content[0], str):
        raise MalformedToken("a disclosure is [salt, name, value] or [salt, value]")
    if len(content) == 2:
        return Disclosure(encoded, content[0], None, content[1])
    name = content[1]
    if not isinstance(name, str) or name in RESERVED_NAMES:
        raise MalformedToken("a disclosure's claim name must be a string and not _sd, _sd_alg or ...")
    return Disclosure(encoded, content[0], name, content[2])


def _as_path(path: str | ClaimPath) -> ClaimPath:
    return (path,) if isinstance(path, str) else tuple(path)


def _decoy_digest() -> str:
    return sha256_b64u(b64u(secrets.token_bytes(SALT_BYTES)))


class _Concealer:
    def __init__(self, disclosable: set[ClaimPath], decoys: int) -> None:
        self.disclosable = disclosable
        self.decoys = decoys
        self.used: set[ClaimPath] = set()
        self.disclosures: list[Disclosure] = []

    def conceal(self, value: Any, path: ClaimPath) -> Any:
        if isinstance(value, dict):
            return self._object(value, path)
        if isinstance(value, list):
            return [self._member(item, (*path, index), None) for index, item in enumerate(value)]
        return value

    def _member(self, value: Any, path: ClaimPath, name: str | None) -> Any:
        inner = self.conceal(value, path)
        if path not in self.disclosable:
            return inner
        self.used.add(path)
        disclosure = make_disclosure(name, inner)
        self.disclosures.append(disclosure)
        return {"...": disclosure.digest}

    def _object(self, value: dict[str, Any], path: ClaimPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        for name, item in value.items():
            if name in RESERVED_NAMES:
                raise ValueError(f"{name!r} is a reserved SD-JWT claim name")
            concealed = self._member(item, (*path, name), name)
            if (*path, name) in self.disclosable:
                digests.append(concealed["..."])
            else:
                out[name] = concealed
        if not path:
            digests.extend(_decoy_digest() for _ in range(self.decoys))
        if digests:
            out["_sd"] = sorted(digests)
        return out


def issue(
    claims: dict[str, Any],
    *,
    disclosable: Iterable[str | ClaimPath],
    key: ec.EllipticCurvePrivateKey,
    kid: str,
    iss: str,
    vct: str,
    iat: int,
    exp: int | None = None,
    nbf: int | None = None,
    holder_jwk: dict[str, str] | None = None,
    status: StatusReference | None = None,
    decoys: int = 0,
) -> str:
    """Issue an SD-JWT VC with every disclosure: ``<issuer-jwt>~<d1>~…~<dn>~``.

    ``ValueError`` if a claim takes an always-visible or reserved name, or a disclosable path names no claim."""
    clash = ALWAYS_VISIBLE & set(claims)
    if clash:
        raise ValueError(f"the issuer sets {sorted(clash)} itself; they are not subject claims")
    paths = {_as_path(path) for path in disclosable}
    if decoys < 0:
        raise ValueError("the number of decoy digests cannot be negative")
    concealer = _Concealer(paths, decoys)
    payload = concealer.conceal(claims, ())
    unknown = paths - concealer.used
    if unknown:
        raise ValueError(f"no claim at the disclosable paths {sorted(map(str, unknown))}")
    payload.update({"iss": iss, "iat": iat, "vct": vct, "_sd_alg": SD_ALG})
    if nbf is not None:
        payload["nbf"] = nbf
    if exp is not None:
        payload["exp"] = exp
    if holder_jwk is not None:
        payload["cnf"] = {"jwk": holder_jwk}
    if status is not None:
        payload["status"] = status.claim()
    token = sign({"typ": TYP, "kid": kid}, payload, key)
    return "~".join([token, *(d.encoded for d in concealer.disclosures), ""])


@dataclass(frozen=True)
class SdJwt:
    """A compact SD-JWT split into its parts (``key_binding`` is ``""`` when there is none)."""

    issuer_jwt: str
    disclosures: tuple[str, ...]
    key_binding: str

    @property
    def without_key_binding(self) -> str:
        """The presented SD-JWT up to and including the last ``~``: the input of ``sd_hash``."""
        return "~".join([self.issuer_jwt, *self.disclosures, ""])


def split(compact: str) -> SdJwt:
    """Split ``<issuer-jwt>~<d>~…~[<kb-jwt>]``; :class:`MalformedToken` if there is no ``~`` or an empty part."""
    parts = compact.split("~")
    if len(parts) < 2 or not parts[0]:
        raise MalformedToken("an SD-JWT is <issuer-jwt>~<disclosures>~<kb-jwt>, with at least one ~")
    disclosures = tuple(parts[1:-1])
    if not all(disclosures):
        raise MalformedToken("an SD-JWT has no empty disclosure")
    return SdJwt(parts[0], disclosures, parts[-1])


def disclosure_paths(payload: dict[str, Any], disclosures: Iterable[str]) -> dict[str, ClaimPath]:
    """Where each disclosure sits in the issuer's claims: encoded disclosure → claim path (the holder's map).

    Disclosures that no digest references are left out; array indices are the issuer's original positions."""
    by_digest = {d.digest: d for d in map(decode_disclosure, disclosures)}
    found: dict[str, ClaimPath] = {}
    for disclosure, path in _walk(payload, (), by_digest):
        found[disclosure.encoded] = path
    return found


def _walk(
    value: Any, path: ClaimPath, by_digest: dict[str, Disclosure]
) -> Iterator[tuple[Disclosure, ClaimPath]]:
    if isinstance(value, dict):
        for digest in value.get("_sd", []) if isinstance(value.get("_sd"), list) else []:
            disclosure = by_digest.get(digest) if isinstance(digest, str) else None
            if disclosure is not None and disclosure.name is not None:
                yield disclosure, (*path, disclosure.name)
                yield from _walk(disclosure.value, (*path, disclosure.name), by_digest)
        for name, item in value.items():
            if name not in RESERVED_NAMES:
                yield from _walk(item, (*path, name), by_digest)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            digest = item.get("...") if isinstance(item, dict) and len(item) == 1 else None
            disclosure = by_digest.get(digest) if isinstance(digest, str) else None
            if disclosure is not None and disclosure.name is None:
                yield disclosure, (*path, index)
                yield from _walk(disclosure.value, (*path, index), by_digest)
            else:
                yield from _walk(item, (*path, index), by_digest)


def _related(path: ClaimPath, chosen: set[ClaimPath]) -> bool:
    """A disclosure is kept when its path is chosen, leads to a chosen path, or lies inside one."""
    return any(path[: len(c)] == c or c[: len(path)] == path for c in chosen)


def present(
    sd_jwt: str,
    *,
    disclose: Iterable[str | ClaimPath],
    holder_key: ec.EllipticCurvePrivateKey | None,
    aud: str,
    nonce: str,
    iat: int,
) -> str:
    """The holder's presentation: only the chosen disclosures (and those on the way to them), then a KB-JWT.

    ``ValueError`` when a chosen path is neither disclosable nor plainly visible in the credential, or when the
    holder key is not the credential's ``cnf`` key (a wallet's own check; the verifier checks again). With no
    ``holder_key`` the presentation ends with ``~`` and carries no key binding."""
    parts = split(sd_jwt)
    payload = parse(parts.issuer_jwt).payload
    paths = disclosure_paths(payload, parts.disclosures)
    chosen = {_as_path(path) for path in disclose}
    for path in chosen:
        if not any(_related(p, {path}) for p in paths.values()) and path[0] not in payload:
            raise ValueError(f"the credential has no claim at {path!r}")
    kept = tuple(d for d in parts.disclosures if d in paths and _related(paths[d], chosen))
    presented = SdJwt(parts.issuer_jwt, kept, "").without_key_binding
    if holder_key is None:
        return presented
    bound = payload.get("cnf", {}).get("jwk") if isinstance(payload.get("cnf"), dict) else None
    if bound is not None and {k: bound.get(k) for k in ("kty", "crv", "x", "y")} != public_jwk(holder_key):
        raise ValueError("the holder key is not the key the credential is bound to (cnf)")
    kb_payload = {"iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sha256_b64u(presented)}
    return presented + sign({"typ": KB_TYP}, kb_payload, holder_key)


def holder_binding(holder_key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public JWK to put in ``cnf`` for a holder's key."""
    return public_jwk(holder_key)
