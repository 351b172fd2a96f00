"""Pure rules of the OpenID Connect provider: which scope releases which claims, the claims of a resident, the
pairwise subject (OIDC Core §8.1) and the authentication context classes. No I/O, no framework.

Scopes and claims (data minimisation: unlike OIDC Core §5.4, ``profile`` carries the name only; birth date and
sex each need their own scope, so a relying party asks for exactly what its procedure needs):

========== ====================================================================================
scope      claims
========== ====================================================================================
openid     ``sub`` (pairwise per sector)
profile    ``name``, ``family_name``, ``given_name`` (kanji) and ``name#ja-Kana-JP``,
           ``family_name#ja-Kana-JP``, ``given_name#ja-Kana-JP`` (katakana, OIDC Core §5.2 language tags)
address    ``address`` {``formatted``, ``region``, ``locality``, ``street_address``, ``country``} — never
           for a resident under 支援措置 (``address_suppressed``)
birthdate  ``birthdate`` (``YYYY-MM-DD``)
gender     ``gender`` (``male`` / ``female``, as registered)
========== ====================================================================================
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ACR_CARD = "urn:tsunagu:acr:jpki-card"  # 利用者証明用電子証明書: the card and its PIN (card or 2D-code login)
ACR_PASSKEY = "urn:tsunagu:acr:passkey"  # a passkey registered after a card login
ACR_VALUES = (ACR_CARD, ACR_PASSKEY)
ACR_RANK = {ACR_PASSKEY: 1, ACR_CARD: 2}  # the card satisfies a request for a passkey, not the reverse

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "openid": ("sub",),
    "profile": (
        "name",
        "family_name",
        "given_name",
        "name#ja-Kana-JP",
        "family_name#ja-Kana-JP",
        "given_name#ja-Kana-JP",
    ),
    "address": ("address",),
    "birthdate": ("birthdate",),
    "gender": ("gender",),
}
SCOPES = tuple(SCOPE_CLAIMS)
CLAIMS = tuple(dict.fromkeys(c for claims in SCOPE_CLAIMS.values() for c in claims))
COUNTRY = "JP"


@dataclass(frozen=True)
class Person:
    """What the provider may release about a resident (taken from the registry's 基本4情報)."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: dt.date
    sex: str
    prefecture: str
    municipality: str
    street: str  # 町域・番地・建物
    formatted_address: str
    address_suppressed: bool


def parse_scopes(scope: str | None) -> list[str]:
    """Space-separated scope string to an ordered list without duplicates."""
    return list(dict.fromkeys((scope or "").split()))


def known_scopes(scopes: Iterable[str]) -> list[str]:
    """Only the scopes this provider defines, in the table's order."""
    wanted = set(scopes)
    return [s for s in SCOPES if s in wanted]


def join_scopes(scopes: Iterable[str]) -> str:
    return " ".join(known_scopes(scopes))


def allowed_scopes(requested: Iterable[str], registered: Iterable[str]) -> list[str]:
    """The requested scopes the relying party is registered for (unknown or unregistered ones are dropped)."""
    allowed = set(registered)
    return [s for s in known_scopes(requested) if s in allowed]


def covers(consented: Iterable[str], requested: Iterable[str]) -> bool:
    """Whether an earlier consent covers every requested scope."""
    return set(requested) <= set(consented)


def released_scopes(scopes: Iterable[str], person: Person) -> list[str]:
    """The scopes whose claims are actually released: ``address`` never for a suppressed address."""
    return [s for s in known_scopes(scopes) if not (s == "address" and person.address_suppressed)]


def claims_for(person: Person, scopes: Iterable[str]) -> dict[str, Any]:
    """The claims (without ``sub``) a token of these scopes releases about the person."""
    granted = set(released_scopes(scopes, person))
    claims: dict[str, Any] = {}
    if "profile" in granted:
        claims.update(
            {
                "name": f"{person.family_name} {person.given_name}",
                "family_name": person.family_name,
                "given_name": person.given_name,
                "name#ja-Kana-JP": f"{person.family_name_kana} {person.given_name_kana}",
                "family_name#ja-Kana-JP": person.family_name_kana,
                "given_name#ja-Kana-JP": person.given_name_kana,
            }
        )
    if "address" in granted:
        claims["address"] = {
            "formatted": person.formatted_address,
            "region": person.prefecture,
            "locality": person.municipality,
            "street_address": person.street,
            "country": COUNTRY,
        }
    if "birthdate" in granted:
        claims["birthdate"] = person.birth_date.isoformat()
    if "gender" in granted:
        claims["gender"] = person.sex
    return claims


def pairwise_subject(key: bytes, sector_identifier: str, person_id: int) -> str:
    """OIDC Core §8.1 pairwise ``sub``: HMAC-SHA-256 of (sector identifier, person id) under a key derived from
    the master secret, base64url without padding. Like the per-agency 符号, it cannot be linked across sectors."""
    message = sector_identifier.lower().encode() + b"\x00" + str(person_id).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def acr_satisfies(session_acr: str, acr_values: Iterable[str]) -> bool:
    """Whether a session's acr meets the relying party's ``acr_values`` (any of them, voluntary claim).

    Unknown values are ignored (OIDC Core §3.1.2.1: acr_values is a preference); a request naming only unknown
    values is met by any session."""
    wanted = [ACR_RANK[v] for v in acr_values if v in ACR_RANK]
    return not wanted or ACR_RANK.get(session_acr, 0) >= min(wanted)


def login_too_old(auth_time: int, now: int, max_age: int | None) -> bool:
    """OIDC ``max_age``: the authentication is older than the relying party accepts."""
    return max_age is not None and now - auth_time > max_age
