"""Addresses in the platform's municipalities: 番地 forms (:func:`clean_block`), the town lists per municipality
and :func:`registry.api.check_address`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.kernel.errors import InvalidInput
from tsunagu.registry import api as registry
from tsunagu.registry.core.validation import clean_block
from tsunagu.registry.seed.loader import seed_towns

HOME, DESTINATION = "142051", "131016"


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("1-2-3", "1-2-3"),
        ("12", "12"),
        ("3番地4", "3番地4"),
        ("1番2号", "1番2号"),
        ("5番地の1", "5番地の1"),
        ("7の2", "7の2"),
        ("３番地", "3番地"),
        ("１－２－３", "1-2-3"),
        ("1ー2", "1-2"),
        (" 1 - 2 ", "1-2"),
    ],
)
def test_block_number_forms_are_accepted_and_normalised(typed: str, clean: str) -> None:
    assert clean_block(typed) == clean


@pytest.mark.parametrize(
    "typed", ["", "   ", "abc", "番地", "1--2", "-1", "1-", "一番地", "1-2-3-4-5", "1番x"]
)
def test_block_without_a_number_form_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as info:
        clean_block(typed)
    assert info.value.field == "block"
    assert info.value.detail_ja


@given(st.lists(st.integers(1, 99999), min_size=1, max_size=3))
def test_any_hyphenated_number_form_round_trips(parts: list[int]) -> None:
    text = "-".join(map(str, parts))
    assert clean_block(text) == text
    assert clean_block(text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))) == text


def test_each_municipality_has_its_own_towns() -> None:
    home, destination = registry.towns_of(HOME), registry.towns_of(DESTINATION)
    assert len(home) == 40
    assert "丸の内一丁目" in destination
    assert 10 <= len(destination) <= 15
    assert not set(home) & set(destination)
    assert registry.towns_of("011002") == ()  # 札幌市: no town list


def test_seeding_uses_only_the_seeded_municipality_towns() -> None:
    assert seed_towns(HOME) == list(registry.towns_of(HOME))
    assert seed_towns(DESTINATION) == list(registry.towns_of(DESTINATION))
    assert seed_towns("011002") == list(registry.towns_of(HOME))  # none of its own: the home demo towns


def test_check_address_normalises() -> None:
    address = registry.check_address(DESTINATION, " 丸の内一丁目 ", "１－２－３", " 丸の内ビル ")
    assert address == registry.NewAddress("丸の内一丁目", "1-2-3", "丸の内ビル")


@pytest.mark.parametrize(
    ("lg_code", "town", "block", "field"),
    [
        ("011002", "大通西一丁目", "1", "lg_code"),  # no town list held for 札幌市
        ("131016", "鵠沼海岸一丁目", "1", "town"),  # a town of 藤沢市, not of 千代田区
        ("131016", "", "1", "town"),
        ("131016", "丸の内一丁目", "", "block"),
        ("131016", "丸の内一丁目", "まるのうち", "block"),
        ("131017", "丸の内一丁目", "1", None),  # bad check digit: an InvalidIdentifier
    ],
)
def test_check_address_refuses(lg_code: str, town: str, block: str, field: str | None) -> None:
    with pytest.raises(InvalidInput) as info:
        registry.check_address(lg_code, town, block)
    assert info.value.field == field
    assert info.value.detail
    assert info.value.detail_ja
