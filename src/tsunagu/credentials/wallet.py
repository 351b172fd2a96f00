"""A command-line wallet for SD-JWT VCs (``tsunagu credentials wallet``): a folder with the holder's P-256 key
(``key.json``, a private JWK, mode 0600) and the credentials it holds (``credentials/*.json``).

``present`` reads a verifier's request (a ``/my/wallet/present/{id}`` link, the request's API URL or its JSON),
discloses only the claims asked (or the paths given), signs the key-binding JWT over the request's nonce and
``aud``, and posts the result to ``response_uri`` as the form field ``vp_token`` (OpenID4VP ``direct_post``).
The HTTP client is passed in (an ``httpx.Client``; tests pass the app's test client)."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.core import sdjwt
from tsunagu.credentials.core.sdjwt_jws import MalformedToken, b64u, b64u_decode, parse, public_jwk

KEY_FILE = "key.json"
CREDENTIALS_DIR = "credentials"
_PRESENT_LINK = re.compile(
    r"/(?:my/wallet/present|verify/presentation|api/v1/presentations/requests)/([\w-]+)$"
)


class WalletError(Exception):
    """A wallet operation that cannot be done; the message says why."""


@dataclass(frozen=True)
class Held:
    name: str  # file stem
    vct: str
    iss: str
    exp: int | None
    claims: tuple[str, ...]  # the disclosable top-level claim names
    compact: str


def init(directory: Path) -> dict[str, str]:
    """Create a wallet with a new P-256 key; the public JWK. Refuses to overwrite an existing key."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / KEY_FILE
    if path.exists():
        raise WalletError(f"{path} exists: this folder is a wallet already")
    key = ec.generate_private_key(ec.SECP256R1())
    private = {**public_jwk(key), "d": b64u(key.private_numbers().private_value.to_bytes(32, "big"))}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(private, out)
    (directory / CREDENTIALS_DIR).mkdir(exist_ok=True)
    return public_jwk(key)


def load_key(directory: Path) -> ec.EllipticCurvePrivateKey:
    path = directory / KEY_FILE
    try:
        jwk = json.loads(path.read_text(encoding="utf-8"))
        d = int.from_bytes(b64u_decode(jwk["d"]), "big")
        return ec.derive_private_key(d, ec.SECP256R1())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WalletError(f"{path}: no wallet key here (tsunagu credentials wallet init)") from exc


def public_key_jwk(directory: Path) -> dict[str, str]:
    return public_jwk(load_key(directory))


def _held(name: str, compact: str) -> Held:
    parts = sdjwt.split(compact)
    payload = parse(parts.issuer_jwt).payload
    paths = sdjwt.disclosure_paths(payload, parts.disclosures).values()
    names = tuple(sorted({str(p[0]) for p in paths}))
    exp = payload.get("exp")
    return Held(name, str(payload.get("vct")), str(payload.get("iss")), exp if isinstance(exp, int) else None,
                names, compact)  # fmt: skip


def add(directory: Path, compact: str) -> Held:
    """Store a credential after checking it is an SD-JWT bound (``cnf.jwk``) to this wallet's key."""
    compact = compact.strip()
    key = load_key(directory)
    try:
        parts = sdjwt.split(compact)
        payload = parse(parts.issuer_jwt).payload
    except MalformedToken as exc:
        raise WalletError(f"not an SD-JWT: {exc}") from exc
    if parts.key_binding:
        raise WalletError("this is a presentation (it ends with a key binding), not an issued credential")
    cnf = payload.get("cnf")
    bound = cnf.get("jwk") if isinstance(cnf, dict) else None
    if not isinstance(bound, dict) or {k: bound.get(k) for k in ("kty", "crv", "x", "y")} != public_jwk(key):
        raise WalletError("the credential is not bound to this wallet's key (cnf.jwk differs)")
    folder = directory / CREDENTIALS_DIR
    folder.mkdir(exist_ok=True)
    existing = {p.stem for p in folder.glob("*.json")}
    number = 1 + max((int(s) for s in existing if s.isdigit()), default=0)
    name = f"{number:04d}"
    path = folder / f"{name}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"compact": compact}, out)
    return _held(name, compact)


def held(directory: Path) -> list[Held]:
    """The credentials in the wallet, oldest first."""
    out = []
    for path in sorted((directory / CREDENTIALS_DIR).glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        out.append(_held(path.stem, str(doc["compact"])))
    return out


def request_url(reference: str) -> str:
    """The request's API URL for a wallet link (``/my/wallet/present/{id}``), a verifier page URL or the API
    URL itself."""
    parts = urlsplit(reference.strip())
    found = _PRESENT_LINK.search(parts.path)
    if not parts.scheme or found is None:
        raise WalletError("give the request's link (…/my/wallet/present/ID), its API URL or its JSON")
    return f"{parts.scheme}://{parts.netloc}/api/v1/presentations/requests/{found.group(1)}"


def fetch_request(reference: str, client: httpx.Client) -> dict[str, Any]:
    """The request as JSON: parsed from ``reference`` when it is JSON, else fetched from its URL."""
    text = reference.strip()
    if text.startswith("{"):
        doc = json.loads(text)
    else:
        response = client.get(request_url(text), headers={"Accept": "application/json"})
        if response.status_code != httpx.codes.OK:
            raise WalletError(f"the request could not be fetched (HTTP {response.status_code})")
        doc = response.json()
    needed = ("nonce", "aud", "vct", "claims", "response_uri")
    if not isinstance(doc, dict) or any(k not in doc for k in needed):
        raise WalletError(f"a presentation request has {', '.join(needed)}")
    return doc


def _paths(values: list[Any]) -> list[tuple[str | int, ...]]:
    out: list[tuple[str | int, ...]] = []
    for value in values:
        if isinstance(value, str):
            out.append(tuple(int(s) if s.isdigit() else s for s in value.split("/")))
        else:
            out.append(tuple(value))
    return out


def choose(directory: Path, request: dict[str, Any], *, now: int) -> Held:
    """The newest unexpired credential of the requested type that holds every asked claim."""
    asked = {str(p[0]) for p in _paths(list(request["claims"]))}
    for item in reversed(held(directory)):
        fresh = item.exp is None or item.exp > now
        if item.vct == request["vct"] and fresh and asked <= set(item.claims):
            return item
    raise WalletError(f"no credential of type {request['vct']} with {sorted(asked)} in this wallet")


def make_presentation(
    directory: Path,
    request: dict[str, Any],
    *,
    disclose: list[str] | None = None,
    now: int | None = None,
) -> str:
    """The ``vp_token``: only the asked claims (or the ``disclose`` paths, ``a/b`` for nested), then the KB-JWT."""
    now = int(time.time()) if now is None else now
    item = choose(directory, request, now=now)
    paths = _paths(disclose) if disclose else _paths(list(request["claims"]))
    try:
        return sdjwt.present(
            item.compact,
            disclose=paths,
            holder_key=load_key(directory),
            aud=str(request["aud"]),
            nonce=str(request["nonce"]),
            iat=now,
        )
    except ValueError as exc:
        raise WalletError(str(exc)) from exc


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _same_origin(reference: str, response_uri: str) -> None:
    """A request fetched from one site must not make the wallet post the presentation to another."""
    text = reference.strip()
    if not text.startswith("{") and _origin(request_url(text)) != _origin(response_uri):
        raise WalletError(f"the request names another site to answer to ({response_uri}); not sent")


def present(
    directory: Path,
    reference: str,
    client: httpx.Client,
    *,
    disclose: list[str] | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    """Fetch the request, make the presentation and post it; the verifier's answer (status, reason, disclosed)."""
    request = fetch_request(reference, client)
    _same_origin(reference, str(request["response_uri"]))
    token = make_presentation(directory, request, disclose=disclose, now=now)
    response = client.post(str(request["response_uri"]), data={"vp_token": token})
    try:
        answer = response.json()
    except ValueError as exc:
        raise WalletError(f"the verifier answered HTTP {response.status_code} without JSON") from exc
    if not isinstance(answer, dict):
        raise WalletError(f"the verifier answered HTTP {response.status_code} with {answer!r}")
    answer.setdefault("http_status", response.status_code)
    return answer
