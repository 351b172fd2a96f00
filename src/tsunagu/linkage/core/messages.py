"""The four messages of one exchange (情報照会 → 情報提供), their claims and their strict validation. Pure.

::

    requester ──request──▶ hub ──forward──▶ provider
    requester ◀──reply──── hub ◀──answer─── provider

Every message is a compact JWS (ES256) signed by its sender (``kid`` = the sender's agency code). Each carries a
message id, the time it was made (``iat``, seconds), the parties, the business (事務) code, the items and the
*recipient's* code for the person: the requester's code on the request and reply, the provider's on the forward
and answer. The forward, answer and reply carry ``request_hash`` (SHA-256 of the request as sent, base64url), so
every later message is bound to the request it answers. Unknown fields are refused: a message means exactly what
the protocol says."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tsunagu.linkage.core.dictionary import AGENCY_CODE, ITEM_CODE
from tsunagu.linkage.core.jws import b64u
from tsunagu.linkage.core.legal_basis import BUSINESS_CODE

MAX_MESSAGE_BYTES = 64 * 1024  # a message larger than this is refused before it is parsed
MAX_ITEMS = 32
MAX_VALUE_BYTES = 16 * 1024
CODE = re.compile(r"^[A-Z2-7]{16,40}$")  # a 符号 as the hub issues it (base32, no padding)
HASH = re.compile(r"^[A-Za-z0-9_-]{43}$")  # SHA-256, base64url without padding


class Typ(StrEnum):
    REQUEST = "tsunagu-linkage-request+jwt"
    FORWARD = "tsunagu-linkage-forward+jwt"
    ANSWER = "tsunagu-linkage-answer+jwt"
    REPLY = "tsunagu-linkage-reply+jwt"


class Reason(StrEnum):
    """Why a message was refused. Stable values: they appear in problem documents, logs and the audit trail."""

    MALFORMED = "malformed"
    OVERSIZED = "oversized"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad-signature"
    UNKNOWN_AGENCY = "unknown-agency"
    AGENCY_INACTIVE = "agency-inactive"
    CERTIFICATE_INVALID = "certificate-invalid"
    UNKNOWN_ITEM = "unknown-item"
    UNKNOWN_CODE = "unknown-code"
    NOT_PERMITTED = "not-permitted-by-legal-basis"
    STALE = "stale"
    REPLAYED = "replayed"
    PROVIDER_UNAVAILABLE = "provider-unavailable"
    PROVIDER_ERROR = "provider-error"


class InvalidMessage(ValueError):
    """A message that does not follow the protocol; ``reason`` says which rule it breaks."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def request_hash(token: str) -> str:
    return b64u(hashlib.sha256(token.encode("ascii")).digest())


def new_id() -> str:
    return str(uuid.uuid4())


class _Message:
    """The claims of a message are its fields: tuples as JSON arrays, item values as ``{value, disclose}``."""

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, dict):
                value = {code: item.claims() for code, item in value.items()}
            claims[field.name] = value
        return claims


@dataclass(frozen=True)
class ItemValue:
    value: Any
    disclose: bool = (
        True  # False: not disclosable to the person (番号法 art. 23(2)); kept out of やりとり履歴
    )

    def claims(self) -> dict[str, Any]:
        return {"value": self.value, "disclose": self.disclose}


@dataclass(frozen=True)
class Request(_Message):
    id: str
    iat: int
    requester: str
    provider: str
    business: str
    items: tuple[str, ...]
    subject: str  # the requester's code for the person
    by_proxy: bool = False  # asked by a person's proxy (自己情報 through the portal)


@dataclass(frozen=True)
class Forward(_Message):
    id: str  # the exchange id (the hub's)
    iat: int
    requester: str
    provider: str
    business: str
    items: tuple[str, ...]
    subject: str  # the provider's code for the person
    request_hash: str


@dataclass(frozen=True)
class Answer(_Message):
    id: str
    iat: int
    in_reply_to: str  # the forward's id
    provider: str
    subject: str
    request_hash: str
    items: dict[str, ItemValue]  # the items the provider holds
    not_held: tuple[str, ...]  # items asked for that the provider holds nothing for


@dataclass(frozen=True)
class Reply(_Message):
    id: str  # the exchange id
    iat: int
    in_reply_to: str  # the request's id
    requester: str
    provider: str
    business: str
    subject: str  # the requester's code
    request_hash: str
    items: dict[str, ItemValue]
    not_held: tuple[str, ...]
    requested_at: int  # milliseconds since the epoch, as the hub recorded them
    provided_at: int
    log_index: int  # the exchange's leaf in the hub log


# --- validation -----------------------------------------------------------------------------------------------


def _fields(claims: dict[str, Any], required: set[str], optional: frozenset[str] = frozenset()) -> None:
    missing = required - set(claims)
    if missing:
        raise InvalidMessage(Reason.MALFORMED, f"missing field(s): {', '.join(sorted(missing))}")
    extra = set(claims) - required - optional
    if extra:
        raise InvalidMessage(Reason.MALFORMED, f"unknown field(s): {', '.join(sorted(extra))}")


def _str(claims: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None, limit: int = 64) -> str:
    value = claims[name]
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InvalidMessage(
            Reason.MALFORMED, f"{name} must be a non-empty string of at most {limit} characters"
        )
    if pattern is not None and not pattern.match(value):
        raise InvalidMessage(Reason.MALFORMED, f"{name} {value!r} is not in the expected form")
    return value


def _uuid(claims: dict[str, Any], name: str) -> str:
    value = _str(claims, name, limit=36)
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise InvalidMessage(Reason.MALFORMED, f"{name} must be a UUID") from None
    if str(parsed) != value:
        raise InvalidMessage(Reason.MALFORMED, f"{name} must be a UUID in its canonical lower-case form")
    return value


def _int(claims: dict[str, Any], name: str) -> int:
    value = claims[name]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**53:
        raise InvalidMessage(Reason.MALFORMED, f"{name} must be a non-negative integer")
    return value


def _items(claims: dict[str, Any]) -> tuple[str, ...]:
    value = claims["items"]
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ITEMS:
        raise InvalidMessage(Reason.MALFORMED, f"items must be a list of 1 to {MAX_ITEMS} item codes")
    if not all(isinstance(i, str) and ITEM_CODE.match(i) for i in value):
        raise InvalidMessage(Reason.MALFORMED, "items must be dotted lower-case item codes")
    if len(set(value)) != len(value):
        raise InvalidMessage(Reason.MALFORMED, "an item is listed twice")
    return tuple(value)


def _values(claims: dict[str, Any]) -> dict[str, ItemValue]:
    value = claims["items"]
    if not isinstance(value, dict) or len(value) > MAX_ITEMS:
        raise InvalidMessage(Reason.MALFORMED, "items must be an object of item code → {value, disclose}")
    out = {}
    for code, entry in value.items():
        if not ITEM_CODE.match(code):
            raise InvalidMessage(Reason.MALFORMED, f"item code {code!r} is not in the expected form")
        if not isinstance(entry, dict) or set(entry) != {"value", "disclose"}:
            raise InvalidMessage(Reason.MALFORMED, f"item {code} must be {{value, disclose}}")
        if not isinstance(entry["disclose"], bool):
            raise InvalidMessage(Reason.MALFORMED, f"disclose of item {code} must be true or false")
        out[code] = ItemValue(entry["value"], entry["disclose"])
    return out


def _not_held(claims: dict[str, Any]) -> tuple[str, ...]:
    value = claims["not_held"]
    if not isinstance(value, list) or not all(isinstance(i, str) and ITEM_CODE.match(i) for i in value):
        raise InvalidMessage(Reason.MALFORMED, "not_held must be a list of item codes")
    return tuple(value)


def parse_request(claims: dict[str, Any]) -> Request:
    _fields(
        claims,
        {"id", "iat", "requester", "provider", "business", "items", "subject"},
        frozenset({"by_proxy"}),
    )
    by_proxy = claims.get("by_proxy", False)
    if not isinstance(by_proxy, bool):
        raise InvalidMessage(Reason.MALFORMED, "by_proxy must be true or false")
    return Request(
        id=_uuid(claims, "id"),
        iat=_int(claims, "iat"),
        requester=_str(claims, "requester", AGENCY_CODE, 32),
        provider=_str(claims, "provider", AGENCY_CODE, 32),
        business=_str(claims, "business", BUSINESS_CODE, 32),
        items=_items(claims),
        subject=_str(claims, "subject", CODE, 40),
        by_proxy=by_proxy,
    )


def parse_forward(claims: dict[str, Any]) -> Forward:
    _fields(claims, {"id", "iat", "requester", "provider", "business", "items", "subject", "request_hash"})
    return Forward(
        id=_uuid(claims, "id"),
        iat=_int(claims, "iat"),
        requester=_str(claims, "requester", AGENCY_CODE, 32),
        provider=_str(claims, "provider", AGENCY_CODE, 32),
        business=_str(claims, "business", BUSINESS_CODE, 32),
        items=_items(claims),
        subject=_str(claims, "subject", CODE, 40),
        request_hash=_str(claims, "request_hash", HASH, 43),
    )


def parse_answer(claims: dict[str, Any]) -> Answer:
    _fields(claims, {"id", "iat", "in_reply_to", "provider", "subject", "request_hash", "items", "not_held"})
    return Answer(
        id=_uuid(claims, "id"),
        iat=_int(claims, "iat"),
        in_reply_to=_uuid(claims, "in_reply_to"),
        provider=_str(claims, "provider", AGENCY_CODE, 32),
        subject=_str(claims, "subject", CODE, 40),
        request_hash=_str(claims, "request_hash", HASH, 43),
        items=_values(claims),
        not_held=_not_held(claims),
    )


def parse_reply(claims: dict[str, Any]) -> Reply:
    _fields(
        claims,
        {
            "id",
            "iat",
            "in_reply_to",
            "requester",
            "provider",
            "business",
            "subject",
            "request_hash",
            "items",
            "not_held",
            "requested_at",
            "provided_at",
            "log_index",
        },
    )
    return Reply(
        id=_uuid(claims, "id"),
        iat=_int(claims, "iat"),
        in_reply_to=_uuid(claims, "in_reply_to"),
        requester=_str(claims, "requester", AGENCY_CODE, 32),
        provider=_str(claims, "provider", AGENCY_CODE, 32),
        business=_str(claims, "business", BUSINESS_CODE, 32),
        subject=_str(claims, "subject", CODE, 40),
        request_hash=_str(claims, "request_hash", HASH, 43),
        items=_values(claims),
        not_held=_not_held(claims),
        requested_at=_int(claims, "requested_at"),
        provided_at=_int(claims, "provided_at"),
        log_index=_int(claims, "log_index"),
    )
