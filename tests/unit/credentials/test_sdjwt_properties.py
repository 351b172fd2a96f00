"""Property: for any claim set and any chosen subset of its disclosable claims, the verifier returns exactly the
chosen claims (plus the always-visible ones), with the values the issuer signed."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.credentials.sdjwt_factory import AUD, NONCE, NOW, Issuer, new_key, present

from tsunagu.credentials.core import sdjwt
from tsunagu.credentials.core.sdjwt_verify import verify

ISSUER = Issuer()
HOLDER = new_key()

names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8).filter(
    lambda n: n not in sdjwt.ALWAYS_VISIBLE | sdjwt.RESERVED_NAMES
)
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def claim_sets(draw: st.DrawFn) -> tuple[dict[str, Any], set[str], set[str]]:
    claims = draw(st.dictionaries(names, values, min_size=1, max_size=6))
    disclosable = draw(st.sets(st.sampled_from(sorted(claims))))
    chosen = draw(st.sets(st.sampled_from(sorted(disclosable)))) if disclosable else set()
    return claims, disclosable, chosen


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(claim_sets(), st.integers(0, 4))
def test_the_verifier_returns_exactly_the_chosen_claims(
    case: tuple[dict[str, Any], set[str], set[str]], decoys: int
) -> None:
    claims, disclosable, chosen = case
    credential = ISSUER.issue(claims, disclosable, HOLDER, decoys=decoys)
    shown = present(credential, HOLDER, chosen)
    result = verify(shown, trust=ISSUER.trust(), aud=AUD, nonce=NONCE, now=NOW, required=chosen)
    assert result.valid, result
    subject = {k: v for k, v in result.claims.items() if k not in sdjwt.ALWAYS_VISIBLE}
    expected = {k: v for k, v in claims.items() if k not in disclosable or k in chosen}
    assert subject == expected
    assert len(sdjwt.split(shown).disclosures) == len(chosen)


@st.composite
def nested_cases(draw: st.DrawFn) -> tuple[dict[str, Any], set[sdjwt.ClaimPath], set[sdjwt.ClaimPath]]:
    members = draw(st.dictionaries(names, scalars, min_size=1, max_size=4))
    items = draw(st.lists(scalars, min_size=1, max_size=4))
    claims = {"group": members, "items": items}
    paths: list[sdjwt.ClaimPath] = [("group", m) for m in members] + [("items", i) for i in range(len(items))]
    disclosable = draw(st.sets(st.sampled_from(paths)))
    chosen = draw(st.sets(st.sampled_from(sorted(disclosable, key=repr)))) if disclosable else set()
    return claims, disclosable, chosen


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(nested_cases())
def test_nested_members_and_array_elements_are_revealed_exactly(
    case: tuple[dict[str, Any], set[sdjwt.ClaimPath], set[sdjwt.ClaimPath]],
) -> None:
    claims, disclosable, chosen = case
    shown = present(ISSUER.issue(claims, disclosable, HOLDER), HOLDER, chosen)
    result = verify(shown, trust=ISSUER.trust(), aud=AUD, nonce=NONCE, now=NOW)
    assert result.valid, result
    group = {
        m: v for m, v in claims["group"].items() if ("group", m) not in disclosable or ("group", m) in chosen
    }
    items = [
        v for i, v in enumerate(claims["items"]) if ("items", i) not in disclosable or ("items", i) in chosen
    ]
    assert result.claims["group"] == group
    assert result.claims["items"] == items
