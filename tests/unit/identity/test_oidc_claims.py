"""Pure rules of the OpenID Connect provider: scopes → claims, the suppressed address, pairwise subjects, acr."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from tsunagu.identity.core import oidc_claims as rules

PERSON = rules.Person(
    family_name="山田",
    given_name="花子",
    family_name_kana="ヤマダ",
    given_name_kana="ハナコ",
    birth_date=dt.date(1990, 4, 1),
    sex="female",
    prefecture="神奈川県",
    municipality="藤沢市",
    street="鵠沼海岸一丁目2番3号",
    formatted_address="神奈川県藤沢市鵠沼海岸一丁目2番3号",
    address_suppressed=False,
)
SUPPRESSED = rules.Person(**{**PERSON.__dict__, "address_suppressed": True})
KEY = bytes(range(32))


def test_each_scope_releases_exactly_its_claims() -> None:
    for scope, claims in rules.SCOPE_CLAIMS.items():
        released = set(rules.claims_for(PERSON, ["openid", scope]))
        assert released == set(claims) - {"sub"}, scope


def test_profile_carries_kanji_and_kana_names_with_language_tags() -> None:
    claims = rules.claims_for(PERSON, ["openid", "profile"])
    assert claims["name"] == "山田 花子"
    assert claims["name#ja-Kana-JP"] == "ヤマダ ハナコ"
    assert claims["given_name#ja-Kana-JP"] == "ハナコ"
    assert "birthdate" not in claims
    assert "gender" not in claims


def test_the_address_is_an_oidc_address_object() -> None:
    address = rules.claims_for(PERSON, ["address"])["address"]
    assert address == {
        "formatted": PERSON.formatted_address,
        "region": "神奈川県",
        "locality": "藤沢市",
        "street_address": "鵠沼海岸一丁目2番3号",
        "country": "JP",
    }


@given(st.lists(st.sampled_from([*rules.SCOPES, "email", "phone"])))
def test_a_suppressed_address_is_never_released_whatever_the_scopes(scopes: list[str]) -> None:
    assert "address" not in rules.claims_for(SUPPRESSED, scopes)
    assert "address" not in rules.released_scopes(scopes, SUPPRESSED)


@given(st.lists(st.sampled_from([*rules.SCOPES, "email"])), st.lists(st.sampled_from(rules.SCOPES)))
def test_allowed_scopes_are_requested_known_and_registered(
    requested: list[str], registered: list[str]
) -> None:
    allowed = rules.allowed_scopes(requested, registered)
    assert set(allowed) <= set(requested) & set(registered) & set(rules.SCOPES)
    assert len(allowed) == len(set(allowed))


@given(st.text(min_size=1, max_size=40), st.integers(min_value=1, max_value=10**9))
def test_pairwise_subjects_are_stable_and_url_safe(sector: str, person: int) -> None:
    sub = rules.pairwise_subject(KEY, sector, person)
    assert sub == rules.pairwise_subject(KEY, sector, person)
    assert len(sub) == 43
    assert set(sub) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=10**9))
def test_pairwise_subjects_separate_sectors_and_people(person: int, other: int) -> None:
    bank = rules.pairwise_subject(KEY, "bank.example.jp", person)
    assert bank != rules.pairwise_subject(KEY, "city.example.lg.jp", person)
    assert bank == rules.pairwise_subject(KEY, "BANK.example.jp", person)  # host names are case-insensitive
    if other != person:
        assert bank != rules.pairwise_subject(KEY, "bank.example.jp", other)
    assert bank != rules.pairwise_subject(bytes(32), "bank.example.jp", person)


def test_acr_values() -> None:
    assert rules.acr_satisfies(rules.ACR_CARD, [rules.ACR_CARD])
    assert rules.acr_satisfies(rules.ACR_CARD, [rules.ACR_PASSKEY])
    assert not rules.acr_satisfies(rules.ACR_PASSKEY, [rules.ACR_CARD])
    assert rules.acr_satisfies(rules.ACR_PASSKEY, [rules.ACR_CARD, rules.ACR_PASSKEY])
    assert rules.acr_satisfies(rules.ACR_PASSKEY, [])
    assert rules.acr_satisfies(rules.ACR_PASSKEY, ["urn:unknown"])


def test_max_age() -> None:
    assert not rules.login_too_old(1000, 1000, 0)
    assert rules.login_too_old(1000, 1001, 0)
    assert not rules.login_too_old(1000, 5000, None)


def test_consent_covers_narrower_requests() -> None:
    assert rules.covers(["openid", "profile", "address"], ["openid", "profile"])
    assert not rules.covers(["openid", "profile"], ["openid", "profile", "address"])
