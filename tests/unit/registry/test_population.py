"""The synthetic population generator (:mod:`tsunagu.registry.seed.population`): deterministic and realistic."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from tsunagu.registry.core.types import Relationship, Sex
from tsunagu.registry.core.validation import KANA_RE, age_on
from tsunagu.registry.seed.population import AGE_BANDS, HOUSEHOLD_SIZES, PopulationGenerator, SeedHousehold

AS_OF = dt.date(2026, 11, 26)
TOWNS = ("本町", "辻堂", "鵠沼")
LARGE = 50_000
AGE_TOLERANCE_POINTS = 4.0  # household composition bends the pyramid a little (most in 40-44: about 3.6)


def generate(residents: int, seed: int = 2022) -> list[SeedHousehold]:
    return list(PopulationGenerator(seed, AS_OF, TOWNS).households(residents))


@pytest.fixture(scope="module")
def large() -> list[SeedHousehold]:
    return generate(LARGE)


def test_the_same_seed_gives_the_same_population() -> None:
    assert generate(2_000, seed=7) == generate(2_000, seed=7)
    assert generate(2_000, seed=7) != generate(2_000, seed=8)


def test_a_smaller_population_is_a_prefix_of_a_larger_one() -> None:
    small, big = generate(500), generate(1_000)
    assert small[:-1] == big[: len(small) - 1]  # only the last household may have been cut short


@pytest.mark.parametrize("residents", [0, 1, 2, 7, 99, 1_000, 12_345])
def test_exactly_the_requested_number_of_residents(residents: int) -> None:
    assert sum(len(h.members) for h in generate(residents)) == residents


def test_household_sizes_are_one_to_six_in_census_proportions(large: list[SeedHousehold]) -> None:
    sizes = Counter(len(h.members) for h in large[:-1])  # the last one may be cut short
    assert set(sizes) <= {1, 2, 3, 4, 5, 6}
    assert 1 <= len(large[-1].members) <= 6
    total = sum(sizes.values())
    weights = sum(w for _, w in HOUSEHOLD_SIZES)
    for size, weight in HOUSEHOLD_SIZES:
        assert abs(100 * sizes[size] / total - 100 * weight / weights) < 1.5, size


def test_every_household_has_its_head_first_and_only_one(large: list[SeedHousehold]) -> None:
    for h in large:
        relationships = [m.relationship for m in h.members]
        assert relationships[0] == Relationship.HEAD.value
        assert relationships.count(Relationship.HEAD.value) == 1
        assert relationships.count(Relationship.SPOUSE.value) <= 1
        assert {Relationship(r) for r in relationships}  # every value is a known 続柄


def test_members_are_plausible_people(large: list[SeedHousehold]) -> None:
    for h in large:
        assert h.town in TOWNS
        assert h.block
        head = h.members[0]
        assert age_on(head.birth_date, AS_OF) >= 18
        for m in h.members:
            assert 0 <= age_on(m.birth_date, AS_OF) <= 110
            assert m.birth_date < AS_OF
            assert Sex(m.sex)
            assert m.family == head.family  # one surname per household
            for kana in (m.family[1], m.given[1]):
                assert KANA_RE.match(kana), kana
            if m.relationship == Relationship.CHILD.value:
                assert m.birth_date > head.birth_date


def test_the_age_pyramid_follows_the_census_bands(large: list[SeedHousehold]) -> None:
    people = [m for h in large for m in h.members]
    assert len(people) == LARGE
    bands = Counter(min(age_on(m.birth_date, AS_OF) // 5, len(AGE_BANDS) - 1) for m in people)
    total_weight = sum(AGE_BANDS)
    for band, weight in enumerate(AGE_BANDS):
        share = 100 * bands[band] / LARGE
        expected = 100 * weight / total_weight
        assert abs(share - expected) <= AGE_TOLERANCE_POINTS, f"ages {band * 5}-{band * 5 + 4}: {share:.1f} %"
