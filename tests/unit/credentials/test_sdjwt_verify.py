"""The verifier's reasons: each failure built from a good presentation by one deliberate change."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.credentials.sdjwt_factory import (
    AUD,
    NONCE,
    NOW,
    STATUS_URI,
    Issuer,
    age_claim_set,
    new_key,
    present,
)

from tsunagu.credentials.core import sdjwt, statuslist
from tsunagu.credentials.core.sdjwt_jws import parse, sha256_b64u, sign
from tsunagu.credentials.core.sdjwt_verify import MESSAGES, Reason, Verification, describe, verify

ISSUER = Issuer()
HOLDER = new_key()
CLAIMS = age_claim_set()


def _credential(**overrides: Any) -> str:
    return ISSUER.issue(CLAIMS.claims, CLAIMS.disclosable, HOLDER, **overrides)


def _check(presentation: str, **overrides: Any) -> Verification:
    options: dict[str, Any] = {"trust": ISSUER.trust(), "aud": AUD, "nonce": NONCE, "now": NOW}
    options.update(overrides)
    return verify(presentation, **options)


def _good(**issue: Any) -> str:
    return present(_credential(**issue), HOLDER, ["age_over_20"])


def _rebind(presented: str, holder: ec.EllipticCurvePrivateKey = HOLDER) -> str:
    """A fresh, correct KB-JWT over ``presented`` (which ends with ``~``): isolates the change under test."""
    payload = {"iat": NOW - 10, "aud": AUD, "nonce": NONCE, "sd_hash": sha256_b64u(presented)}
    return presented + sign({"typ": "kb+jwt"}, payload, holder)


def _reissue(
    credential: str,
    *,
    header: dict[str, Any] | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
    **payload_changes: Any,
) -> str:
    """The credential's issuer JWT re-signed with changes, disclosures kept, no key binding yet."""
    parts = sdjwt.split(credential)
    token = parse(parts.issuer_jwt)
    payload = {**token.payload, **payload_changes}
    head = header if header is not None else {k: v for k, v in token.header.items() if k != "alg"}
    issuer_jwt = sign(head, payload, key or ISSUER.key)
    return sdjwt.SdJwt(issuer_jwt, parts.disclosures, "").without_key_binding


def _only(credential: str, name: str) -> str:
    parts = sdjwt.split(credential)
    kept = tuple(d for d in parts.disclosures if sdjwt.decode_disclosure(d).name == name)
    return sdjwt.SdJwt(parts.issuer_jwt, kept, "").without_key_binding


def test_the_good_presentation_is_valid() -> None:
    result = _check(_good())
    assert result.valid
    assert result.reason is None
    assert describe(result) == "valid"
    assert result.message("en") == "Valid."


@pytest.mark.parametrize(
    "text",
    ["", "~", "garbage", "a.b.c~", "a.b~~", "e30.e30.AAAA~", "x" * 70_000, _good().replace("~", "~~", 1),
     _good().split("~")[0]],
)  # fmt: skip
def test_malformed_inputs(text: str) -> None:
    result = _check(text)
    assert not result.valid
    assert result.reason is Reason.MALFORMED


def test_a_disclosure_that_is_not_json_is_malformed() -> None:
    broken = _rebind(_only(_credential(), "age_over_20") + "bm90IGpzb24~")
    assert _check(broken).reason is Reason.MALFORMED


def test_wrong_typ() -> None:
    credential = _reissue(_only(_credential(), "age_over_20"), header={"typ": "JWT", "kid": ISSUER.kid})
    assert _check(_rebind(credential)).reason is Reason.WRONG_TYP


def test_legacy_typ_only_when_asked() -> None:
    credential = _rebind(
        _reissue(_only(_credential(), "age_over_20"), header={"typ": "vc+sd-jwt", "kid": ISSUER.kid})
    )
    assert _check(credential).reason is Reason.WRONG_TYP
    assert _check(credential, accept_legacy_typ=True).valid


def test_unknown_issuer() -> None:
    assert _check(_good(), trust=Issuer(iss="https://other.example").trust()).reason is Reason.UNKNOWN_ISSUER


def test_unknown_key() -> None:
    other = Issuer()
    assert _check(_good(), trust=other.trust()).reason is Reason.UNKNOWN_KEY


def test_swapped_issuer_key_is_a_bad_signature() -> None:
    impostor = Issuer()
    trust = {ISSUER.iss: {"keys": [{**impostor.jwk, "kid": ISSUER.kid}]}}
    assert _check(_good(), trust=trust).reason is Reason.BAD_ISSUER_SIGNATURE


def test_payload_changed_after_signing_is_a_bad_signature() -> None:
    good = _good()
    head, body, signature = sdjwt.split(good).issuer_jwt.split(".")
    forged = sdjwt.split(_reissue(_only(_credential(), "age_over_20"), exp=NOW + 10**9)).issuer_jwt.split(
        "."
    )[1]
    tampered = _rebind(f"{head}.{forged}.{signature}~" + "~".join(sdjwt.split(good).disclosures) + "~")
    assert body != forged
    assert _check(tampered).reason is Reason.BAD_ISSUER_SIGNATURE


def test_expired_and_not_yet_valid() -> None:
    assert _check(_good(exp=NOW - 3600)).reason is Reason.EXPIRED
    assert _check(_good(nbf=NOW + 3600)).reason is Reason.NOT_YET_VALID
    assert _check(_good(iat=NOW + 3600)).reason is Reason.NOT_YET_VALID
    assert _check(_good(), now=NOW + 86_400 * 400).reason is Reason.EXPIRED


def test_tampered_disclosure_is_not_in_the_payload() -> None:
    fake = sdjwt.make_disclosure(
        "age_over_20", True
    ).encoded  # a value the issuer never signed under this salt
    parts = sdjwt.split(_only(_credential(), "age_over_18"))
    presented = sdjwt.SdJwt(parts.issuer_jwt, (fake,), "").without_key_binding
    assert _check(_rebind(presented)).reason is Reason.DISCLOSURE_NOT_IN_PAYLOAD


def test_a_disclosure_from_another_credential_is_not_in_the_payload() -> None:
    other = sdjwt.split(_only(_credential(), "birth_date")).disclosures
    parts = sdjwt.split(_only(_credential(), "age_over_20"))
    presented = sdjwt.SdJwt(parts.issuer_jwt, parts.disclosures + other, "").without_key_binding
    assert _check(_rebind(presented)).reason is Reason.DISCLOSURE_NOT_IN_PAYLOAD


def test_duplicate_disclosure() -> None:
    parts = sdjwt.split(_only(_credential(), "age_over_20"))
    presented = sdjwt.SdJwt(parts.issuer_jwt, parts.disclosures * 2, "").without_key_binding
    assert _check(_rebind(presented)).reason is Reason.DUPLICATE_DISCLOSURE


def test_duplicate_digest() -> None:
    only = _only(_credential(), "age_over_20")
    digests = parse(sdjwt.split(only).issuer_jwt).payload["_sd"]
    assert _check(_rebind(_reissue(only, _sd=[*digests, digests[0]]))).reason is Reason.DUPLICATE_DIGEST


def test_missing_key_binding_when_cnf_is_present() -> None:
    unbound = present(_credential(), None, ["age_over_20"])
    assert unbound.endswith("~")
    assert _check(unbound).reason is Reason.MISSING_KEY_BINDING


def test_a_credential_without_holder_key_needs_permission() -> None:
    credential = ISSUER.issue(CLAIMS.claims, CLAIMS.disclosable, None)
    shown = present(credential, None, ["age_over_20"])
    assert _check(shown).reason is Reason.MISSING_KEY_BINDING
    assert _check(shown, require_key_binding=False).valid


def test_kb_signed_by_another_key() -> None:
    assert _check(_rebind(_only(_credential(), "age_over_20"), new_key())).reason is Reason.BAD_KB_SIGNATURE


def test_wrong_audience_and_nonce() -> None:
    credential = _credential()
    assert _check(present(credential, HOLDER, ["age_over_20"], aud="https://evil.example")).reason is (
        Reason.WRONG_AUDIENCE
    )
    assert _check(present(credential, HOLDER, ["age_over_20"], nonce="replayed")).reason is Reason.WRONG_NONCE


def test_sd_hash_over_a_different_presentation() -> None:
    credential = _credential()
    wider = present(credential, HOLDER, ["age_over_20", "birth_date"])
    narrow = _only(credential, "age_over_20")
    stolen_kb = sdjwt.split(wider).key_binding
    assert _check(narrow + stolen_kb).reason is Reason.SD_HASH_MISMATCH


def test_kb_too_old_or_from_the_future() -> None:
    credential = _credential()
    assert _check(present(credential, HOLDER, ["age_over_20"], iat=NOW - 301)).reason is Reason.KB_TOO_OLD
    assert _check(present(credential, HOLDER, ["age_over_20"], iat=NOW + 301)).reason is Reason.KB_FROM_FUTURE
    assert _check(present(credential, HOLDER, ["age_over_20"], iat=NOW - 301), max_kb_age=600).valid


def _status_token(value: int, *, key: ec.EllipticCurvePrivateKey | None = None, uri: str = STATUS_URI) -> str:
    lst = statuslist.StatusList(1024, 2)
    lst.set(7, value)
    return statuslist.encode_token(
        lst, key=key or ISSUER.key, kid=ISSUER.kid, iss=ISSUER.iss, uri=uri, iat=NOW - 60, exp=NOW + 3600
    )


def test_revoked_and_suspended_through_the_status_list() -> None:
    shown = _good(status=sdjwt.StatusReference(7, STATUS_URI))
    assert _check(shown, status=_status_token(statuslist.Status.VALID)).valid
    assert _check(shown, status=_status_token(statuslist.Status.INVALID)).reason is Reason.REVOKED
    assert _check(shown, status=_status_token(statuslist.Status.SUSPENDED)).reason is Reason.SUSPENDED
    assert _check(shown, status=_status_token(3)).reason is Reason.REVOKED
    assert (
        _check(shown, status=lambda uri, idx: 1 if (uri, idx) == (STATUS_URI, 7) else 0).reason
        is Reason.REVOKED
    )


def _unavailable(uri: str, idx: int) -> int:
    raise LookupError(f"{uri} cannot be fetched")


@pytest.mark.parametrize(
    "status",
    [None, _unavailable, _status_token(0, key=new_key()), _status_token(0, uri=f"{STATUS_URI}-other")],
)
def test_status_that_cannot_be_checked_is_never_valid(status: Any) -> None:
    shown = _good(status=sdjwt.StatusReference(7, STATUS_URI))
    assert _check(shown, status=status).reason is Reason.STATUS_UNAVAILABLE


def test_required_claim_not_disclosed() -> None:
    result = _check(_good(), required=["age_over_20", "birth_date"])
    assert result.reason is Reason.REQUIRED_CLAIM_MISSING
    assert result.detail == "birth_date"
    assert result.claims == {}


def test_every_reason_has_a_japanese_and_an_english_message() -> None:
    assert set(MESSAGES) == set(Reason)
    for reason in Reason:
        ja, en = MESSAGES[reason]
        assert ja != en
        assert Verification(False, reason).message("ja") == ja
        assert Verification(False, reason).message("en") == en


GOOD = _good()


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(0, len(GOOD) - 1), st.sampled_from("AQgw_-~.0z"))
def test_any_one_character_change_is_never_valid(position: int, char: str) -> None:
    mutated = GOOD[:position] + char + GOOD[position + 1 :]
    if mutated != GOOD:
        assert not _check(mutated).valid


def test_key_binding_of_the_wrong_type() -> None:
    presented = _only(_credential(), "age_over_20")
    payload = {"iat": NOW - 10, "aud": AUD, "nonce": NONCE, "sd_hash": sha256_b64u(presented)}
    assert _check(presented + sign({"typ": "JWT"}, payload, HOLDER)).reason is Reason.WRONG_TYP


def test_a_key_binding_without_a_holder_key_in_the_credential_is_malformed() -> None:
    unbound = ISSUER.issue(CLAIMS.claims, CLAIMS.disclosable, None)
    assert (
        _check(_rebind(_only(unbound, "age_over_20")), require_key_binding=False).reason is Reason.MALFORMED
    )


def test_a_trust_list_from_kid_and_jwk() -> None:
    from tsunagu.credentials.core.sdjwt_verify import trust_list

    trust = trust_list(ISSUER.iss, {ISSUER.kid: {k: v for k, v in ISSUER.jwk.items() if k != "kid"}})
    assert _check(_good(), trust=trust).valid
    assert _check(_good(), trust=trust_list(ISSUER.iss, {"other": ISSUER.jwk})).reason is Reason.UNKNOWN_KEY


def test_the_wallet_refuses_to_bind_with_a_key_that_is_not_the_cnf_key() -> None:
    with pytest.raises(ValueError, match="cnf"):
        present(_credential(), new_key(), ["age_over_20"])
