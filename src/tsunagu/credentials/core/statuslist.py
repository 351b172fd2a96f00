"""Token Status List (draft-ietf-oauth-status-list): revocation and suspension of SD-JWT VCs. Pure.

A status list is a byte array holding one status of ``bits`` (1, 2, 4 or 8) bits per credential, index 0 in the
least significant bits of byte 0 (§4.1). It travels DEFLATE-compressed in the ZLIB format (RFC 1950, with the
two-byte header and Adler-32 trailer, not raw DEFLATE), base64url-encoded, as ``status_list.lst`` of a JWT with
header ``typ: statuslist+jwt`` whose ``sub`` is the list's URI (§5.1). Values: 0 valid, 1 invalid (revoked),
2 suspended (§7.1); 3 and above are application-specific and treated as not valid here."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from tsunagu.credentials.core.sdjwt_jws import (
    MalformedToken,
    b64u,
    b64u_decode,
    key_from_jwk,
    parse,
    sign,
    verify,
)

TYP = "statuslist+jwt"
ALLOWED_BITS = (1, 2, 4, 8)
MAX_LIST_BYTES = 16 * 1024 * 1024  # a decompressed list larger than this is refused (a compression bomb)


class Status(IntEnum):
    VALID = 0
    INVALID = 1
    SUSPENDED = 2


class StatusListError(ValueError):
    """A status-list token that cannot be trusted or read; the message says why."""


class StatusList:
    """``size`` statuses of ``bits`` bits each, all 0 (valid) at first."""

    def __init__(self, size: int, bits: int = 1, *, data: bytes | None = None) -> None:
        if bits not in ALLOWED_BITS:
            raise ValueError(f"bits must be one of {ALLOWED_BITS}")
        if size < 0:
            raise ValueError("the size cannot be negative")
        length = (size * bits + 7) // 8
        if data is not None and len(data) != length:
            raise ValueError("the data does not match the size")
        self.size = size
        self.bits = bits
        self._data = bytearray(data) if data is not None else bytearray(length)

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < self.size:
            raise IndexError(f"index {index} is outside the list of {self.size}")
        bit = index * self.bits
        return bit // 8, bit % 8

    def get(self, index: int) -> int:
        byte, shift = self._locate(index)
        return (self._data[byte] >> shift) & ((1 << self.bits) - 1)

    def set(self, index: int, value: int) -> None:
        if not 0 <= value < (1 << self.bits):
            raise ValueError(f"a status of {self.bits} bits is between 0 and {(1 << self.bits) - 1}")
        byte, shift = self._locate(index)
        mask = ((1 << self.bits) - 1) << shift
        self._data[byte] = (self._data[byte] & ~mask & 0xFF) | (value << shift)

    def to_bytes(self) -> bytes:
        return bytes(self._data)

    def to_json(self) -> dict[str, Any]:
        """``{"bits": …, "lst": …}``: ZLIB at the highest level (§4.1 recommends it), base64url."""
        return {"bits": self.bits, "lst": b64u(zlib.compress(bytes(self._data), 9))}

    @classmethod
    def from_json(cls, value: object) -> StatusList:
        """Read ``{"bits", "lst"}``; the size is every slot the bytes hold. :class:`StatusListError` if bad."""
        if not isinstance(value, dict) or value.get("bits") not in ALLOWED_BITS:
            raise StatusListError("status_list must have bits of 1, 2, 4 or 8")
        lst = value.get("lst")
        if not isinstance(lst, str):
            raise StatusListError("status_list.lst must be a string")
        try:
            inflater = zlib.decompressobj()
            data = inflater.decompress(b64u_decode(lst), MAX_LIST_BYTES)
        except (MalformedToken, zlib.error) as exc:
            raise StatusListError("status_list.lst is not base64url ZLIB data") from exc
        if inflater.unconsumed_tail or not inflater.eof:
            raise StatusListError("status_list.lst is too large or truncated")
        bits = int(value["bits"])
        return cls(len(data) * 8 // bits, bits, data=data)


def encode_token(
    status_list: StatusList,
    *,
    key: ec.EllipticCurvePrivateKey,
    kid: str,
    iss: str,
    uri: str,
    iat: int,
    exp: int | None = None,
    ttl: int | None = None,
) -> str:
    """The status list as a signed ``statuslist+jwt`` with ``sub`` = ``uri``."""
    payload: dict[str, Any] = {"iss": iss, "sub": uri, "iat": iat, "status_list": status_list.to_json()}
    if exp is not None:
        payload["exp"] = exp
    if ttl is not None:
        payload["ttl"] = ttl
    return sign({"typ": TYP, "kid": kid}, payload, key)


@dataclass(frozen=True)
class StatusListToken:
    """A verified status-list token."""

    iss: str
    uri: str
    iat: int
    exp: int | None
    status_list: StatusList


def decode_token(
    token: str,
    *,
    keys: Mapping[str, Mapping[str, Any]],
    now: int,
    uri: str | None = None,
    iss: str | None = None,
) -> StatusListToken:
    """Check and read a status-list token. ``keys`` maps ``kid`` → public JWK of the issuer expected to sign it.

    :class:`StatusListError` for a wrong ``typ``, an unknown key, a bad signature, an expired token, or a ``sub``
    or ``iss`` other than the expected ``uri`` and ``iss``."""
    try:
        parsed = parse(token)
    except MalformedToken as exc:
        raise StatusListError(f"the status list token is malformed: {exc}") from exc
    if parsed.header.get("typ") != TYP:
        raise StatusListError(f"the status list token's typ must be {TYP}")
    jwk = keys.get(str(parsed.header.get("kid")))
    if jwk is None:
        raise StatusListError("the status list token is signed with an unknown key")
    try:
        public = key_from_jwk(dict(jwk))
    except MalformedToken as exc:
        raise StatusListError(f"the status list key is unusable: {exc}") from exc
    if not verify(parsed, public):
        raise StatusListError("the status list token's signature is not valid")
    payload = parsed.payload
    sub, token_iss, iat, exp = payload.get("sub"), payload.get("iss"), payload.get("iat"), payload.get("exp")
    if not isinstance(sub, str) or not isinstance(iat, int) or (exp is not None and not isinstance(exp, int)):
        raise StatusListError("the status list token lacks sub or iat, or has a non-integer exp")
    if uri is not None and sub != uri:
        raise StatusListError("the status list token is for another list (sub)")
    if iss is not None and token_iss != iss:
        raise StatusListError("the status list token comes from another issuer")
    if exp is not None and exp <= now:
        raise StatusListError("the status list token has expired")
    return StatusListToken(str(token_iss), sub, iat, exp, StatusList.from_json(payload.get("status_list")))
