"""The node's registration messages (``POST /linkage/v1/nodes`` and ``/linkage/v1/nodes/withdraw``). Pure.

A node tells the hub where it answers with a compact JWS (ES256) signed by its agency's key::

    header  {"alg": "ES256", "kid": <agency>, "typ": "tsunagu-linkage-node+jwt"}        (register)
            {"alg": "ES256", "kid": <agency>, "typ": "tsunagu-linkage-node-withdraw+jwt"} (withdraw)
    payload {"agency": <agency>, "url": <base URL of the node>, "iat": <seconds>}

The two types differ so a registration can never be replayed as a withdrawal, nor the reverse. The hub accepts a
message made within five minutes of its own clock, and never one older than the registration it holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.linkage.core import jws
from tsunagu.linkage.core.dictionary import AGENCY_CODE
from tsunagu.linkage.core.messages import InvalidMessage, Reason

MAX_URL = 300
MAX_BYTES = 2048  # a registration is a few hundred bytes
FRESHNESS = dt.timedelta(minutes=5)


class NodeTyp(StrEnum):
    REGISTER = "tsunagu-linkage-node+jwt"
    WITHDRAW = "tsunagu-linkage-node-withdraw+jwt"


@dataclass(frozen=True)
class NodeMessage:
    typ: NodeTyp
    agency: str
    url: str
    iat: int

    def claims(self) -> dict[str, Any]:
        return {"agency": self.agency, "url": self.url, "iat": self.iat}


def check_url(url: str) -> str:
    """A node's base URL: http or https, a host, no credentials, query or fragment, at most 300 characters."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise InvalidMessage(Reason.MALFORMED, f"url must be a string of 1 to {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        raise InvalidMessage(Reason.MALFORMED, "url is not a valid URL") from None
    del port
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidMessage(Reason.MALFORMED, "url must be an http or https URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InvalidMessage(Reason.MALFORMED, "url must not carry credentials, a query or a fragment")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise InvalidMessage(Reason.MALFORMED, "url must not contain spaces or control characters")
    return url.rstrip("/")


def sign(message: NodeMessage, key: ec.EllipticCurvePrivateKey) -> str:
    return jws.sign(message.claims(), key, message.agency, message.typ)


def parse(token: str, typ: NodeTyp) -> tuple[jws.ParsedJws, NodeMessage]:
    """Split and check a node message of type ``typ`` (the signature is checked by the caller, who holds the
    agency's certified key)."""
    try:
        parsed = jws.parse(token, MAX_BYTES)
    except jws.MalformedJws as exc:
        raise InvalidMessage(Reason.MALFORMED, str(exc)) from exc
    if parsed.typ != typ:
        raise InvalidMessage(Reason.MALFORMED, f"expected a message of type {typ}, got {parsed.typ!r}")
    claims = parsed.payload
    if set(claims) != {"agency", "url", "iat"}:
        raise InvalidMessage(Reason.MALFORMED, "a node message has exactly agency, url and iat")
    agency, iat = claims["agency"], claims["iat"]
    if not isinstance(agency, str) or not AGENCY_CODE.match(agency) or len(agency) > 32:
        raise InvalidMessage(Reason.MALFORMED, "agency is not an agency code")
    if parsed.kid != agency:
        raise InvalidMessage(Reason.MALFORMED, "the message must be signed by its agency (kid ≠ agency)")
    if not isinstance(iat, int) or isinstance(iat, bool) or not 0 <= iat < 2**53:
        raise InvalidMessage(Reason.MALFORMED, "iat must be a non-negative integer")
    return parsed, NodeMessage(typ, agency, check_url(claims["url"]), iat)


def check_fresh(message: NodeMessage, now: dt.datetime) -> dt.datetime:
    """The time the message was made; refused when outside five minutes of ``now``."""
    made = dt.datetime.fromtimestamp(message.iat, dt.UTC)
    if abs(now - made) > FRESHNESS:
        raise InvalidMessage(Reason.STALE, f"the message was made at {made.isoformat()}, outside 5 minutes")
    return made
