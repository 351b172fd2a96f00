"""Token Status List: the draft's own examples, round trips, and the token's checks."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.credentials.sdjwt_factory import NOW, STATUS_URI, Issuer

from tsunagu.credentials.core import statuslist
from tsunagu.credentials.core.sdjwt_jws import b64u, parse
from tsunagu.credentials.core.statuslist import (
    Status,
    StatusList,
    StatusListError,
    decode_token,
    encode_token,
)

# draft-ietf-oauth-status-list (§4.1 and the Appendix C "test vectors"): with 1 bit per status, the statuses
# below pack to b9 a3 and compress (ZLIB, highest level) to "eNrbuRgAAhcBXQ"; with 2 bits, the second list packs to
# c9 44 f9 and compresses to "eNo76fITAAPfAgc".
ONE_BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
TWO_BITS = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]


@pytest.mark.parametrize(
    ("bits", "statuses", "packed", "lst"),
    [
        (1, ONE_BIT, bytes([0xB9, 0xA3]), "eNrbuRgAAhcBXQ"),
        (2, TWO_BITS, bytes([0xC9, 0x44, 0xF9]), "eNo76fITAAPfAgc"),
    ],
)
def test_draft_examples(bits: int, statuses: list[int], packed: bytes, lst: str) -> None:
    status_list = StatusList(len(statuses), bits)
    for index, value in enumerate(statuses):
        status_list.set(index, value)
    assert status_list.to_bytes() == packed
    assert status_list.to_json() == {"bits": bits, "lst": lst}
    decoded = StatusList.from_json({"bits": bits, "lst": lst})
    assert [decoded.get(i) for i in range(len(statuses))] == statuses


@settings(deadline=None)  # no timing in the suite: a busy machine must not fail it
@given(st.sampled_from(statuslist.ALLOWED_BITS), st.data())
def test_round_trip(bits: int, data: st.DataObject) -> None:
    values = data.draw(st.lists(st.integers(0, (1 << bits) - 1), max_size=200))
    status_list = StatusList(len(values), bits)
    for index, value in enumerate(values):
        status_list.set(index, value)
    assert [status_list.get(i) for i in range(len(values))] == values
    decoded = StatusList.from_json(status_list.to_json())
    assert [decoded.get(i) for i in range(len(values))] == values
    assert decoded.size >= len(values)


def test_setting_one_status_leaves_its_neighbours() -> None:
    status_list = StatusList(8, 2)
    status_list.set(3, Status.SUSPENDED)
    status_list.set(2, Status.INVALID)
    status_list.set(3, Status.VALID)
    assert [status_list.get(i) for i in range(8)] == [0, 0, 1, 0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("size", "bits", "index", "value"),
    [(8, 3, 0, 0), (8, 1, 8, 0), (8, 1, -1, 0), (8, 1, 0, 2), (8, 2, 0, 4)],
)
def test_bad_sizes_indices_and_values(size: int, bits: int, index: int, value: int) -> None:
    with pytest.raises((ValueError, IndexError)):
        StatusList(size, bits).set(index, value)


@pytest.mark.parametrize(
    "value",
    [None, {"bits": 3, "lst": "eNrbuRgAAhcBXQ"}, {"bits": 1}, {"bits": 1, "lst": "!!"},
     {"bits": 1, "lst": b64u(zlib.compress(b"\xff")[:-2])}, {"bits": 1, "lst": b64u(b"\x01\x02")}],
)  # fmt: skip
def test_bad_lists_are_refused(value: object) -> None:
    with pytest.raises(StatusListError):
        StatusList.from_json(value)


def test_a_compression_bomb_is_refused() -> None:
    bomb = b64u(zlib.compress(bytes(statuslist.MAX_LIST_BYTES + 1), 9))
    with pytest.raises(StatusListError, match="too large"):
        StatusList.from_json({"bits": 1, "lst": bomb})


ISSUER = Issuer()


def _token(**overrides: object) -> str:
    status_list = StatusList(16, 1)
    status_list.set(5, 1)
    options: dict[str, object] = {
        "key": ISSUER.key, "kid": ISSUER.kid, "iss": ISSUER.iss, "uri": STATUS_URI, "iat": NOW, "exp": NOW + 60,
        "ttl": 43200,
    }  # fmt: skip
    options.update(overrides)
    return encode_token(status_list, **options)  # type: ignore[arg-type]


def test_token_round_trip() -> None:
    token = _token()
    parsed = parse(token)
    assert parsed.header == {"alg": "ES256", "typ": "statuslist+jwt", "kid": ISSUER.kid}
    assert parsed.payload["sub"] == STATUS_URI
    assert parsed.payload["ttl"] == 43200
    read = decode_token(token, keys={ISSUER.kid: ISSUER.jwk}, now=NOW, uri=STATUS_URI, iss=ISSUER.iss)
    assert (read.uri, read.iss, read.status_list.get(5), read.status_list.get(4)) == (
        STATUS_URI,
        ISSUER.iss,
        1,
        0,
    )


@pytest.mark.parametrize(
    ("token", "now", "match"),
    [
        (_token(key=Issuer().key), NOW, "signature"),
        (_token(kid="other"), NOW, "unknown key"),
        (_token(uri="https://elsewhere.example/1"), NOW, "another list"),
        (_token(iss="https://elsewhere.example"), NOW, "another issuer"),
        (_token(), NOW + 61, "expired"),
        ("not.a.token", NOW, "malformed"),
    ],
)
def test_token_checks(token: str, now: int, match: str) -> None:
    with pytest.raises(StatusListError, match=match):
        decode_token(token, keys={ISSUER.kid: ISSUER.jwk}, now=now, uri=STATUS_URI, iss=ISSUER.iss)


def test_a_token_of_another_type_is_refused() -> None:
    from tsunagu.credentials.core.sdjwt_jws import sign

    payload = parse(_token()).payload
    forged = sign({"typ": "JWT", "kid": ISSUER.kid}, payload, ISSUER.key)
    with pytest.raises(StatusListError, match="typ"):
        decode_token(forged, keys={ISSUER.kid: ISSUER.jwk}, now=NOW)
