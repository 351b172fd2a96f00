"""Properties of the SMART Health Card verifier: a changed card is never valid, and the fast minimisation pass agrees
with the walk that names each problem."""

from __future__ import annotations

from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagu.credentials.core import fhir, shc
from tsunagu.credentials.core.verify import verify

ISS = "https://vc.example.jp/issuer"
KEY = ec.generate_private_key(ec.SECP256R1())
TRUST = {ISS: {"keys": [shc.public_jwk(KEY.public_key())]}}
PERSON = fhir.Vaccinee("佐藤", ("一郎",), date(1970, 1, 1), (fhir.Dose("207", date(2021, 7, 1), lot="X1"),))
JWS = shc.sign(shc.build_payload(iss=ISS, nbf=1_000, bundle=fhir.immunization_bundle(PERSON)), KEY)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_. =/"


def test_the_unchanged_card_is_valid() -> None:
    assert verify(JWS, TRUST, 2_000)[0].valid


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=len(JWS) - 1), st.sampled_from(ALPHABET))
def test_a_card_with_one_character_changed_is_never_valid(index: int, char: str) -> None:
    changed = JWS[:index] + char + JWS[index + 1 :]
    if changed == JWS:
        return
    results = verify(changed, TRUST, 2_000)
    assert not any(r.valid for r in results)
    assert all(r.findings for r in results)


@settings(max_examples=100)
@given(st.integers(min_value=0, max_value=len(JWS)), st.text(ALPHABET, min_size=1, max_size=3))
def test_a_card_with_characters_inserted_is_never_valid(index: int, extra: str) -> None:
    assert not any(r.valid for r in verify(JWS[:index] + extra + JWS[index:], TRUST, 2_000))


_json: Any = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.sampled_from(["", "x", "resource:0", "resource:01"])
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["display", "code", "system", "coding", "text", "reference", "a"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@given(_json)
def test_the_fast_pass_agrees_with_the_detailed_walk(node: Any) -> None:
    problems: list[str] = []
    fhir._walk(node, "Bundle", problems)
    assert fhir._clean(node) == (not problems)
