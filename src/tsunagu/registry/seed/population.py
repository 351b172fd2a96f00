"""Generate households and people (pure: a ``random.Random`` in, plain tuples out; no I/O).

Figures that shape the population (approximate, for realism only):
- age pyramid: Japan, 2020 census, share of the population per 5-year band;
- household sizes: 2020 census, 1: 38.0 %, 2: 28.1 %, 3: 16.6 %, 4: 12.3 %, 5: 3.9 %, 6: 1.1 %.
Names come from Faker's ja_JP tables (kanji with katakana readings), weighted as Faker weights them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from faker.providers.person.ja_JP import Provider as JaPerson

AGE_BANDS = (
    3.6,
    4.0,
    4.3,
    4.5,
    4.8,
    4.8,
    5.2,
    5.9,
    6.6,
    7.7,
    7.0,
    6.2,
    5.9,
    6.8,
    7.2,
    5.5,
    4.4,
    3.0,
    1.4,
    0.4,
    0.07,
)
T = TypeVar("T")
HOUSEHOLD_SIZES = ((1, 38.0), (2, 28.1), (3, 16.6), (4, 12.3), (5, 3.9), (6, 1.1))


@dataclass(frozen=True)
class Member:
    relationship: str
    family: tuple[str, str]
    given: tuple[str, str]
    sex: str
    birth_date: dt.date


@dataclass(frozen=True)
class SeedHousehold:
    members: tuple[Member, ...]
    town: str
    block: str
    building: str


class Weighted(Generic[T]):
    """Fast weighted choice over a fixed table (bisect over cumulative weights)."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


def _pairs(table: object) -> tuple[list[tuple[str, str]], list[float]]:
    if isinstance(table, dict):
        return [(k[0], k[1]) for k in table], [float(w) for w in table.values()]
    seq = list(table)  # type: ignore[call-overload]
    return [(k[0], k[1]) for k in seq], [1.0] * len(seq)


class PopulationGenerator:
    """Deterministic for a given seed and reference date."""

    def __init__(self, seed: int, as_of: dt.date, towns: Sequence[str]) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.towns = list(towns)
        fam, famw = _pairs(JaPerson.last_name_pairs)
        male, malew = _pairs(JaPerson.first_name_male_pairs)
        female, femalew = _pairs(JaPerson.first_name_female_pairs)
        self.family = Weighted(fam, famw)
        self.male = Weighted(male, malew)
        self.female = Weighted(female, femalew)
        self.ages = Weighted(list(range(len(AGE_BANDS))), AGE_BANDS)
        self.sizes = Weighted([n for n, _ in HOUSEHOLD_SIZES], [w for _, w in HOUSEHOLD_SIZES])

    def _age(self, low: int = 0, high: int = 104) -> int:
        for _ in range(20):
            band = self.ages.pick(self.rng)
            age = band * 5 + self.rng.randrange(5)
            if low <= age <= high:
                return age
        return self.rng.randint(low, max(low, high))

    def _birth(self, age: int) -> dt.date:
        days = self.rng.randrange(365)
        return self.as_of - dt.timedelta(days=age * 365 + age // 4 + days + 1)

    def _given(self, sex: str) -> tuple[str, str]:
        return self.male.pick(self.rng) if sex == "male" else self.female.pick(self.rng)

    def _member(self, rel: str, family: tuple[str, str], sex: str, age: int) -> Member:
        return Member(rel, family, self._given(sex), sex, self._birth(age))

    def household(self) -> SeedHousehold:
        rng = self.rng
        size = self.sizes.pick(rng)
        family = self.family.pick(rng)
        # Single-person households are about evenly split; couples' registered head is more often the man.
        head_sex = "male" if rng.random() < (0.5 if size == 1 else 0.7) else "female"
        if size == 1:
            members = [self._member("head", family, head_sex, self._age(18))]
        else:
            couple = rng.random() < (0.8 if size > 2 else 0.65)
            head_age = self._age(24 if couple else 40, 95)
            members = [self._member("head", family, head_sex, head_age)]
            if couple:
                other = "female" if head_sex == "male" else "male"
                spouse_age = max(18, min(100, head_age + rng.randint(-6, 6)))
                members.append(self._member("spouse", family, other, spouse_age))
            if size == 6 and head_age < 60:
                members.append(
                    self._member("parent", family, rng.choice(("male", "female")), min(head_age + 28, 100))
                )
            while len(members) < size:
                max_child = max(0, min(head_age - 20, 45))
                low = 0 if head_age < 70 else min(max(0, head_age - 45), max_child)
                child_age = rng.randint(low, max_child)
                members.append(self._member("child", family, rng.choice(("male", "female")), child_age))
        building = ""
        if rng.random() < 0.4:
            kind = rng.choice(("コーポ", "ハイツ", "メゾン", "レジデンス"))
            building = f"{kind}{family[0]} {rng.randint(1, 5)}0{rng.randint(1, 9)}号室"
        return SeedHousehold(
            members=tuple(members),
            town=rng.choice(self.towns),
            block=f"{rng.randint(1, 30)}番{rng.randint(1, 25)}号",
            building=building,
        )

    def households(self, residents: int) -> Iterator[SeedHousehold]:
        """Yield households until exactly ``residents`` people have been produced."""
        made = 0
        while made < residents:
            h = self.household()
            if made + len(h.members) > residents:
                h = SeedHousehold(h.members[: residents - made], h.town, h.block, h.building)
            made += len(h.members)
            yield h
