"""SD-JWT VC issuance and presentation: the spec's own vectors, the shape of what we issue, the headline
"age over 20 and nothing else" check of issue 7, and the claim sets."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from tests.unit.credentials.sdjwt_factory import AUD, NONCE, NOW, Issuer, age_claim_set, new_key, present

from tsunagu.credentials.core import sdjwt, sdjwt_claims
from tsunagu.credentials.core.sdjwt_jws import b64u_decode, jwk_thumbprint, parse, sha256_b64u
from tsunagu.credentials.core.sdjwt_verify import verify

# --- spec vectors ------------------------------------------------------------------------------------------------
# RFC 9901 (Selective Disclosure for JSON Web Tokens), §4.2.1 and §4.2.3: the family_name disclosure and its
# SHA-256 digest; §4.2.1 also prints the same claim with the umlaut escaped, which must hash differently.
# §4.2.2: the array-element disclosure for "FR" and its digest (the digest is printed in draft -07 §5.2.2 too).
# §5.1 (the issuance example): the given_name and email disclosures and their digests.
RFC9901_OBJECT_VECTORS = [
    ("_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius",
     "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0",
     "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"),
    ("2GLC42sKQveCfGfryNRN9w", "given_name", "John",
     "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
     "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"),
    ("6Ij7tM-a5iVPGboS5tmvVA", "email", "johndoe@example.com",
     "WyI2SWo3dE0tYTVpVlBHYm9TNXRtdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ",
     "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE"),
]  # fmt: skip
RFC9901_ARRAY_VECTOR = (
    "lklxF5jMYlGTPUovMNIvCA", "FR", "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0",
    "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs",
)  # fmt: skip
RFC9901_ESCAPED_UMLAUT = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNXHUwMGY2Yml1cyJd"


@pytest.mark.parametrize(("salt", "name", "value", "encoded", "digest"), RFC9901_OBJECT_VECTORS)
def test_object_disclosures_reproduce_rfc9901(
    salt: str, name: str, value: str, encoded: str, digest: str
) -> None:
    made = sdjwt.make_disclosure(name, value, salt)
    assert made.encoded == encoded
    assert made.digest == digest
    assert sdjwt.decode_disclosure(encoded) == made


def test_array_element_disclosure_reproduces_rfc9901() -> None:
    salt, value, encoded, digest = RFC9901_ARRAY_VECTOR
    made = sdjwt.make_disclosure(None, value, salt)
    assert (made.encoded, made.digest) == (encoded, digest)
    assert sdjwt.decode_disclosure(encoded).name is None


def test_the_digest_is_over_the_encoded_string_not_the_value() -> None:
    escaped = sdjwt.decode_disclosure(RFC9901_ESCAPED_UMLAUT)
    assert escaped.value == "Möbius"
    assert escaped.digest != "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"


def test_jwk_thumbprint_reproduces_rfc7638_style_for_ec() -> None:
    # RFC 7638 §3.2 fixes the members and their order; a reordered JWK has the same thumbprint.
    jwk = {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}
    assert jwk_thumbprint(jwk) == jwk_thumbprint(
        {"y": "b", "x": "a", "crv": "P-256", "kty": "EC", "kid": "z"}
    )
    assert jwk_thumbprint(jwk) == sha256_b64u('{"crv":"P-256","kty":"EC","x":"a","y":"b"}')


# --- issuance ----------------------------------------------------------------------------------------------------


def test_issued_credential_hides_every_disclosable_claim_and_shows_the_fixed_ones() -> None:
    issuer, holder = Issuer(), new_key()
    claim_set = age_claim_set()
    credential = issuer.issue(claim_set.claims, claim_set.disclosable, holder, decoys=3)
    parts = sdjwt.split(credential)
    token = parse(parts.issuer_jwt)
    assert token.header == {"alg": "ES256", "typ": "dc+sd-jwt", "kid": issuer.kid}
    payload = token.payload
    assert set(payload) == {"iss", "iat", "exp", "vct", "cnf", "_sd", "_sd_alg"}
    assert payload["_sd_alg"] == "sha-256"
    assert payload["_sd"] == sorted(payload["_sd"])
    assert len(payload["_sd"]) == 6 + 3  # six top-level claims and three decoys
    assert parts.key_binding == ""
    assert len(parts.disclosures) == len(claim_set.disclosable)
    for encoded in parts.disclosures:
        salt = sdjwt.decode_disclosure(encoded).salt
        assert len(b64u_decode(salt)) >= 16


def test_salts_are_fresh_for_each_issuance() -> None:
    issuer = Issuer()
    first = issuer.issue({"a": 1}, {"a"}, None)
    second = issuer.issue({"a": 1}, {"a"}, None)
    assert sdjwt.split(first).disclosures != sdjwt.split(second).disclosures


@pytest.mark.parametrize("name", sorted(sdjwt.ALWAYS_VISIBLE))
def test_always_visible_claims_cannot_be_subject_claims(name: str) -> None:
    with pytest.raises(ValueError, match="issuer sets"):
        Issuer().issue({name: "x"}, {name}, None)


def test_a_disclosable_path_that_names_no_claim_is_refused() -> None:
    with pytest.raises(ValueError, match="no claim"):
        Issuer().issue({"a": 1}, {("a", "b")}, None)


def test_nested_members_and_array_elements_are_disclosable_on_their_own() -> None:
    issuer, holder = Issuer(), new_key()
    claims = {"address": {"locality": "千代田区", "region": "東京都"}, "nationalities": ["JP", "FR"]}
    credential = issuer.issue(claims, {("address", "locality"), ("nationalities", 1), "address"}, holder)
    shown = present(credential, holder, [("address", "locality"), ("nationalities", 1)])
    result = verify(shown, trust=issuer.trust(), aud=AUD, nonce=NONCE, now=NOW)
    assert result.valid, result
    assert result.claims["address"] == {"locality": "千代田区", "region": "東京都"}
    assert result.claims["nationalities"] == ["JP", "FR"]
    region_only = present(credential, holder, ["nationalities"])
    result = verify(region_only, trust=issuer.trust(), aud=AUD, nonce=NONCE, now=NOW)
    assert result.valid, result
    assert "address" not in result.claims


def test_presentation_key_binding_hashes_the_presented_sd_jwt() -> None:
    issuer, holder = Issuer(), new_key()
    claim_set = age_claim_set()
    shown = present(issuer.issue(claim_set.claims, claim_set.disclosable, holder), holder, ["age_over_20"])
    parts = sdjwt.split(shown)
    kb = parse(parts.key_binding)
    assert kb.header == {"alg": "ES256", "typ": "kb+jwt"}
    assert kb.payload == {
        "iat": NOW - 10, "aud": AUD, "nonce": NONCE, "sd_hash": sha256_b64u(shown[: shown.rindex("~") + 1])
    }  # fmt: skip


def test_presenting_a_claim_the_credential_lacks_is_refused() -> None:
    issuer, holder = Issuer(), new_key()
    with pytest.raises(ValueError, match="no claim"):
        present(issuer.issue({"a": 1}, {"a"}, holder), holder, ["b"])


# --- the headline check of issue 7 -------------------------------------------------------------------------------


def _disclosed_names(presentation: str) -> set[str | None]:
    return {sdjwt.decode_disclosure(d).name for d in sdjwt.split(presentation).disclosures}


def test_age_over_20_alone_verifies_and_nothing_else_is_disclosed() -> None:
    issuer, holder = Issuer(), new_key()
    claim_set = age_claim_set()
    credential = issuer.issue(claim_set.claims, claim_set.disclosable, holder, decoys=2)
    shown = present(credential, holder, ["age_over_20"])

    result = verify(shown, trust=issuer.trust(), aud=AUD, nonce=NONCE, now=NOW, required=["age_over_20"])

    assert result.valid, result
    assert result.claims["age_over_20"] is True
    assert set(result.claims) == {"iss", "iat", "exp", "vct", "cnf", "age_over_20"}
    assert _disclosed_names(shown) == {"age_over_20"}
    assert len(sdjwt.split(shown).disclosures) == 1
    decoded = "".join(
        base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8", "replace")
        for part in shown.replace("~", ".").split(".")
    )
    for secret in ("1992-05-17", "山田", "花子", "千代田区", "100-0001", "birth_date", "age_over_18"):
        assert secret not in decoded
        assert secret not in shown


# --- claim sets --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "over_18", "over_20"),
    [
        (dt.date(2006, 9, 21), dt.date(2026, 9, 21), True, True),  # the 20th birthday itself
        (dt.date(2006, 9, 22), dt.date(2026, 9, 21), True, False),  # the day before it
        (dt.date(2008, 9, 21), dt.date(2026, 9, 21), True, False),  # 18 today
        (dt.date(2008, 9, 22), dt.date(2026, 9, 21), False, False),
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), False, False),  # 29 February ages on 1 March
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), True, False),
    ],
)
def test_age_thresholds(birth: dt.date, on: dt.date, over_18: bool, over_20: bool) -> None:
    claims = sdjwt_claims.age_credential(birth, on).claims
    assert (claims["age_over_18"], claims["age_over_20"]) == (over_18, over_20)
    assert claims["birth_date"] == birth.isoformat()


def test_age_credential_makes_everything_disclosable() -> None:
    claim_set = age_claim_set()
    assert claim_set.vct == sdjwt_claims.AGE_VCT
    assert {
        ("age_over_18",),
        ("age_over_20",),
        ("birth_date",),
        ("address", "locality"),
    } <= claim_set.disclosable


def _licence(**overrides: object) -> sdjwt_claims.ClaimSet:
    options: dict[str, object] = {
        "family_name": "佐藤", "given_name": "一郎", "birth_date": dt.date(1980, 1, 2),
        "address": {"region": "大阪府", "locality": "大阪市"}, "document_number": "123456789012",
        "issue_date": dt.date(2024, 3, 1), "expiry_date": dt.date(2029, 2, 2),
        "issuing_authority": "大阪府公安委員会", "licence_colour": "gold",
        "privileges": {"ordinary": dt.date(1999, 4, 1), "moped": dt.date(1999, 4, 1)}, "conditions": ("glasses",),
    }  # fmt: skip
    options.update(overrides)
    return sdjwt_claims.driving_licence(**options)  # type: ignore[arg-type]


def test_driving_licence_discloses_one_privilege_alone() -> None:
    issuer, holder = Issuer(), new_key()
    licence = _licence()
    assert ("driving_privileges", 1) in licence.disclosable
    credential = issuer.issue(licence.claims, licence.disclosable, holder, vct=licence.vct)
    shown = present(credential, holder, [("driving_privileges", 1)])
    result = verify(shown, trust=issuer.trust(), aud=AUD, nonce=NONCE, now=NOW)
    assert result.valid, result
    assert result.claims["driving_privileges"] == [
        {"vehicle_category_code": "ordinary", "issue_date": "1999-04-01"}
    ]
    assert "document_number" not in result.claims


@pytest.mark.parametrize(
    "override",
    [{"document_number": "12345"}, {"licence_colour": "red"}, {"privileges": {"tank": dt.date(2000, 1, 1)}},
     {"expiry_date": dt.date(2020, 1, 1)}],
)  # fmt: skip
def test_driving_licence_refuses_bad_records(override: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each override breaks a different rule
        _licence(**override)


def test_qualification_round_trip() -> None:
    issuer, holder = Issuer(), new_key()
    cert = sdjwt_claims.qualification(
        family_name="鈴木", given_name="美咲", birth_date=dt.date(1990, 7, 7), code="nurse", name="看護師",
        registration_number="0001234", registration_date=dt.date(2013, 4, 1), issuing_authority="厚生労働大臣",
    )  # fmt: skip
    credential = issuer.issue(cert.claims, cert.disclosable, holder, vct=cert.vct)
    shown = present(credential, holder, ["qualification", "qualification_name", "family_name"])
    result = verify(shown, trust=issuer.trust(), aud=AUD, nonce=NONCE, now=NOW, required=["qualification"])
    assert result.valid, result
    assert result.claims["vct"] == sdjwt_claims.QUALIFICATION_VCT
    subject = {k: v for k, v in result.claims.items() if k not in sdjwt.ALWAYS_VISIBLE}
    assert subject == {"qualification": "nurse", "qualification_name": "看護師", "family_name": "鈴木"}
    assert json.dumps(result.claims, ensure_ascii=False).count("1990") == 0


def test_disclosing_an_object_reveals_its_members_and_a_member_brings_its_parent() -> None:
    issuer, holder = Issuer(), new_key()
    claim_set = age_claim_set()
    credential = issuer.issue(claim_set.claims, claim_set.disclosable, holder)
    payload = parse(sdjwt.split(credential).issuer_jwt).payload
    paths = set(sdjwt.disclosure_paths(payload, sdjwt.split(credential).disclosures).values())
    assert paths == set(claim_set.disclosable)

    whole = verify(
        present(credential, holder, ["address"]), trust=issuer.trust(), aud=AUD, nonce=NONCE, now=NOW
    )
    assert whole.valid, whole
    assert whole.claims["address"] == claim_set.claims["address"]

    one = present(credential, holder, [("address", "locality")])
    assert _disclosed_names(one) == {"address", "locality"}
    result = verify(
        one, trust=issuer.trust(), aud=AUD, nonce=NONCE, now=NOW, required=[("address", "locality")]
    )
    assert result.valid, result
    assert result.claims["address"] == {"locality": "千代田区"}
