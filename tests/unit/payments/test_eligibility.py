"""Eligibility: flat benefits per person or household head, and 児童手当's age bands, third-child count and
income limit at their boundaries."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from tests.unit.payments.test_programmes import CHILD

from tsunagu.payments.core.eligibility import (
    Entitled,
    entitlements,
    last_month,
    month_index,
    reaches_age_on,
)
from tsunagu.payments.core.programmes import Boundary, Payee, parse_programme
from tsunagu.payments.sources import programme

EMERGENCY = programme("emergency-2026")
ALLOWANCE = programme("child-allowance")
PRE_REFORM = parse_programme(CHILD, "programmes/test-child.toml")
Row = tuple[int, int, str, dt.date, str]


def r(pid: int, hid: int, rel: str, born: dt.date, status: str = "resident") -> Row:
    return (pid, hid, rel, born, status)


def by_person(found: list[Entitled]) -> dict[int, Entitled]:
    return {e.person_id: e for e in found}


def test_ages_are_reached_the_day_before_the_birthday_and_school_years_end_on_march_31() -> None:
    assert reaches_age_on(dt.date(2008, 4, 2), 18) == dt.date(2026, 4, 1)
    assert reaches_age_on(dt.date(2008, 2, 29), 18) == dt.date(2026, 2, 28)
    # born 1 April: reaches 18 on 31 March, which is the end of that school year (早生まれ)
    assert last_month(dt.date(2008, 4, 1), 18, Boundary.SCHOOL_YEAR) == month_index(dt.date(2026, 3, 1))
    # born 2 April: reaches 18 on 1 April, so the school year runs to the next 31 March
    assert last_month(dt.date(2008, 4, 2), 18, Boundary.SCHOOL_YEAR) == month_index(dt.date(2027, 3, 1))
    assert last_month(dt.date(2023, 10, 15), 3, Boundary.BIRTH_MONTH) == month_index(dt.date(2026, 10, 1))


def test_flat_benefit_pays_the_household_head_for_every_member() -> None:
    born = dt.date(1980, 1, 1)
    roll = [
        r(1, 10, "head", born),
        r(2, 10, "spouse", born),
        r(3, 10, "child", dt.date(2020, 1, 1)),
        r(4, 11, "head", born, "deceased"),  # died after the reference date: still on the roll
        r(5, 12, "cohabitant", born),  # a household whose head is not on the roll
    ]
    found = by_person(list(entitlements(EMERGENCY, "once", roll)))
    assert {p: (e.payee_person_id, e.amount) for p, e in found.items()} == {
        1: (1, 100_000),
        2: (1, 100_000),
        3: (1, 100_000),
        4: (4, 100_000),
        5: (5, 100_000),
    }
    assert found[2].basis == {"rule": "flat", "amount": 100_000, "payee": "household_head"}
    assert found[5].basis["payee"] == "self"


def test_flat_benefit_per_person_pays_each_resident_themself() -> None:
    per_person = dataclasses.replace(EMERGENCY, payee=Payee.PERSON)
    roll = [r(1, 10, "head", dt.date(1980, 1, 1)), r(2, 10, "child", dt.date(2020, 1, 1))]
    assert [(e.person_id, e.payee_person_id) for e in entitlements(per_person, "once", roll)] == [
        (1, 1),
        (2, 2),
    ]


def test_child_allowance_bands_at_the_third_birthday_month() -> None:
    # period 2026-12 pays October and November 2026
    roll = [
        r(1, 10, "head", dt.date(1990, 1, 1)),
        r(2, 10, "child", dt.date(2023, 10, 15)),  # 3 in October: 15,000 for October, 10,000 for November
        r(3, 11, "head", dt.date(1990, 1, 1)),
        r(4, 11, "child", dt.date(2023, 11, 30)),  # 3 in November: 15,000 for both
    ]
    found = by_person(list(entitlements(ALLOWANCE, "2026-12", roll)))
    assert found[2].amount == 25_000
    assert [line["monthly"] for line in found[2].basis["months"]] == [15_000, 10_000]
    assert found[4].amount == 30_000
    assert found[2].payee_person_id == 1
    assert 1 not in found  # the parent is not a child


def test_child_allowance_ends_at_the_march_31_after_the_18th_birthday() -> None:
    head = r(1, 10, "head", dt.date(1970, 1, 1))
    april_1 = r(2, 10, "child", dt.date(2008, 4, 1))  # its school year ended 2026-03-31
    april_2 = r(3, 10, "child", dt.date(2008, 4, 2))  # paid until 2027-03-31
    found = by_person(list(entitlements(ALLOWANCE, "2026-06", [head, april_1, april_2])))
    assert set(found) == {3}
    assert found[3].amount == 20_000
    found = by_person(list(entitlements(ALLOWANCE, "2027-04", [head, april_2])))  # Feb + Mar 2027: still paid
    assert found[3].amount == 20_000
    assert not list(entitlements(ALLOWANCE, "2027-06", [head, april_2]))  # Apr + May 2027: over


def test_a_child_is_paid_from_the_month_after_birth() -> None:
    roll = [r(1, 10, "head", dt.date(1990, 1, 1)), r(2, 10, "child", dt.date(2026, 10, 20))]
    found = by_person(list(entitlements(ALLOWANCE, "2026-12", roll)))
    assert [line["month"] for line in found[2].basis["months"]] == ["2026-11"]
    assert found[2].amount == 15_000
    # born after the roll date (30 November): not yet on this period's roll of children
    late = [r(1, 10, "head", dt.date(1990, 1, 1)), r(2, 10, "child", dt.date(2026, 12, 1))]
    assert not list(entitlements(ALLOWANCE, "2026-12", late))


def test_the_third_child_counts_older_siblings_up_to_the_march_31_after_22() -> None:
    head = r(1, 10, "head", dt.date(1975, 1, 1))
    eldest = r(2, 10, "child", dt.date(2004, 4, 2))  # 22 on 2026-04-01: counted until 2027-03-31
    second = r(3, 10, "child", dt.date(2010, 6, 1))  # 16
    third = r(4, 10, "child", dt.date(2015, 6, 1))  # 11: the third child
    found = by_person(list(entitlements(ALLOWANCE, "2026-12", [head, eldest, second, third])))
    assert 2 not in found  # past 18: counted, not paid
    assert found[3].amount == 20_000
    assert found[4].amount == 60_000
    assert (found[4].basis["child_no"], found[4].basis["children_counted"]) == (3, 3)
    # an eldest born 1 April 2004 left the count on 2026-03-31: the youngest is the second child again
    younger_eldest = r(2, 10, "child", dt.date(2004, 4, 1))
    found = by_person(list(entitlements(ALLOWANCE, "2026-12", [head, younger_eldest, second, third])))
    assert found[4].amount == 20_000
    assert found[4].basis["child_no"] == 2


def test_twins_are_ranked_by_birth_date_then_id() -> None:
    head = r(1, 10, "head", dt.date(1985, 1, 1))
    kids = [r(p, 10, "child", dt.date(2020, 5, 5)) for p in (7, 5, 6)]
    found = by_person(list(entitlements(ALLOWANCE, "2026-12", [head, *kids])))
    assert {p: e.basis["child_no"] for p, e in found.items()} == {5: 1, 6: 2, 7: 3}
    assert found[7].amount == 60_000


def test_the_income_limit_of_the_pre_reform_rules() -> None:
    head = r(1, 10, "head", dt.date(1985, 1, 1))
    child = r(2, 10, "child", dt.date(2018, 5, 5))
    roll = [head, child]
    assert by_person(list(entitlements(PRE_REFORM, "2026-12", roll, {1: 6_220_000})))[2].amount == 20_000
    reduced = by_person(list(entitlements(PRE_REFORM, "2026-12", roll, {1: 6_220_001})))[2]
    assert reduced.amount == 10_000  # 特例給付 5,000 a month
    assert reduced.basis["income"]["reduced"] is True
    assert by_person(list(entitlements(PRE_REFORM, "2026-12", roll, {1: 8_580_000})))[2].amount == 10_000
    assert not list(entitlements(PRE_REFORM, "2026-12", roll, {1: 8_580_001}))  # above the upper limit
    unknown = by_person(list(entitlements(PRE_REFORM, "2026-12", roll)))[2]
    assert unknown.amount == 20_000
    assert unknown.basis["income"]["income"] is None
    # the pre-reform bands: 10,000 until the end of primary school (12), 15,000 from the third child then
    teen = r(3, 10, "child", dt.date(2012, 4, 2))  # 14: the junior-high band
    kids = [head, teen, r(4, 10, "child", dt.date(2016, 1, 1)), r(5, 10, "child", dt.date(2019, 1, 1))]
    found = by_person(list(entitlements(PRE_REFORM, "2026-12", kids)))
    assert {p: e.amount for p, e in found.items()} == {3: 20_000, 4: 20_000, 5: 30_000}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["head", "spouse", "child", "child", "parent"]), st.dates(dt.date(1990, 1, 1))
        ),
        min_size=1,
        max_size=8,
    )
)
def test_every_child_allowance_amount_is_a_sum_of_listed_monthly_amounts(
    members: list[tuple[str, dt.date]],
) -> None:
    roll = [r(i + 1, 1, rel, born) for i, (rel, born) in enumerate(members)]
    heads = [p for p, _h, rel, _b, _s in roll if rel == "head"]
    for e in entitlements(ALLOWANCE, "2026-12", roll):
        assert e.amount == sum(line["monthly"] for line in e.basis["months"])
        assert {line["monthly"] for line in e.basis["months"]} <= {10_000, 15_000, 30_000}
        assert 0 < len(e.basis["months"]) <= 2
        assert e.payee_person_id == (heads[0] if heads else e.person_id)
        assert roll[e.person_id - 1][2] == "child"
