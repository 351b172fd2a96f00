"""Who is entitled to what: a programme's rules over the roll of its municipality on the reference date. Pure.

The roll arrives as a stream of tuples ``(person_id, household_id, relationship, birth_date, status)`` ordered by
household (the registry's ``residents_on``); each household is looked at once and forgotten, so a million
residents take seconds and constant memory. Each :class:`Entitled` says whom it is for, who is paid, how much and
why (``basis``: the rule lines that applied, kept on the entitlement for the person and the auditor).

Ages follow 年齢計算ニ関スル法律: a person reaches an age on the day before the birthday (a 29 February birthday:
on 28 February in other years). "Until the school year after age N" (年度末) is the first 31 March on or after
that day. Months are counted as ``year * 12 + month - 1``."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from tsunagu.payments.core.programmes import Boundary, ChildRules, Kind, Payee, Programme

HEAD = "head"  # 世帯主 in the registry's 続柄
MARCH = 3
THIRD = 3  # the third and later child
Row = tuple[int, int, str, dt.date, str]  # person, household, relationship, birth date, status


class Entitled(NamedTuple):
    person_id: int  # whom it is for
    payee_person_id: int  # who is paid
    amount: int  # yen
    basis: dict[str, Any]


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_label(index: int) -> str:
    return f"{index // 12}-{index % 12 + 1:02d}"


def reaches_age_on(birth: dt.date, age: int) -> dt.date:
    """The day a person born on ``birth`` reaches ``age`` (the day before the birthday)."""
    try:
        birthday = birth.replace(year=birth.year + age)
    except ValueError:  # 29 February in a common year: the birthday is taken as 1 March
        birthday = dt.date(birth.year + age, MARCH, 1)
    return birthday - dt.timedelta(days=1)


@functools.lru_cache(maxsize=1 << 17)  # birth dates repeat: a million residents have ~40,000 of them
def last_month(birth: dt.date, age: int, boundary: Boundary) -> int:
    """The last month (index) a person is within ``age`` under ``boundary``."""
    if boundary is Boundary.BIRTH_MONTH:
        return (birth.year + age) * 12 + birth.month - 1
    reached = reaches_age_on(birth, age)
    year = reached.year if reached.month <= MARCH else reached.year + 1
    return year * 12 + MARCH - 1


def entitlements(
    programme: Programme,
    period: str,
    roll: Iterable[Row],
    incomes: Mapping[int, int] | None = None,
) -> Iterator[Entitled]:
    """The entitlements of ``programme`` for ``period`` from the roll (ordered by household). ``incomes``: the
    payees' incomes (yen) where the programme has an income limit; a payee without one is not limited."""
    on = programme.roll_date(period)
    if programme.kind is Kind.FLAT:
        yield from _flat(programme, roll)
        return
    assert programme.children is not None  # noqa: S101 - the parser requires it for this kind
    months = tuple(y * 12 + m - 1 for y, m in programme.covered_months(period))
    rules = _ChildAllowance(programme, programme.children, on, months, incomes or {})
    for _household, members in groupby(roll, key=itemgetter(1)):
        yield from rules.household(list(members))


def _payee_of(members: list[Row]) -> int | None:
    return next((m[0] for m in members if m[2] == HEAD), None)


def _flat(programme: Programme, roll: Iterable[Row]) -> Iterator[Entitled]:
    amount = programme.flat_amount
    own = {"rule": "flat", "amount": amount, "payee": Payee.PERSON.value}
    if programme.payee is Payee.PERSON:
        for row in roll:
            yield Entitled(row[0], row[0], amount, own)
        return
    to_head = {"rule": "flat", "amount": amount, "payee": Payee.HOUSEHOLD_HEAD.value}
    headless = {"rule": "flat", "amount": amount, "payee": "self", "note": "no household head on the roll"}
    for _household, group in groupby(roll, key=itemgetter(1)):
        members = list(group)
        head = _payee_of(members)
        for row in members:
            if head is None:
                yield Entitled(row[0], row[0], amount, headless)
            else:
                yield Entitled(row[0], head, amount, to_head)


class _ChildAllowance:
    def __init__(
        self,
        programme: Programme,
        rules: ChildRules,
        on: dt.date,
        months: tuple[int, ...],
        incomes: Mapping[int, int],
    ) -> None:
        self.programme = programme
        self.rules = rules
        self.on = on
        self.on_month = month_index(on)
        self.months = months
        self.incomes = incomes
        self.relationships = frozenset(rules.child_relationships)

    def household(self, members: list[Row]) -> Iterator[Entitled]:
        children = [m for m in members if m[2] in self.relationships and m[3] <= self.on]
        if not children:
            return
        rules = self.rules
        counted = sorted(
            (
                c
                for c in children
                if self.on_month <= last_month(c[3], rules.count_until_age, rules.count_boundary)
            ),
            key=lambda c: (c[3], c[0]),
        )
        head = _payee_of(members)
        income_line, reduced = self._income(head)
        if income_line is not None and income_line.get("excluded"):
            return
        for number, child in enumerate(counted, 1):
            lines = self._months(child, number, reduced)
            if not lines:
                continue
            basis: dict[str, Any] = {
                "rule": "child_allowance",
                "child_no": number,
                "children_counted": len(counted),
                "months": lines,
                "payee": Payee.HOUSEHOLD_HEAD.value if head is not None else "self",
            }
            if income_line is not None:
                basis["income"] = income_line
            payee = head if head is not None and self.programme.payee is Payee.HOUSEHOLD_HEAD else child[0]
            yield Entitled(child[0], payee, sum(line["monthly"] for line in lines), basis)

    def _income(self, payee: int | None) -> tuple[dict[str, Any] | None, int | None]:
        """The income rule line and the reduced monthly amount (特例給付) if the payee is above the limit."""
        limit = self.rules.income
        if limit is None:
            return None, None
        income = self.incomes.get(payee) if payee is not None else None
        if income is None:
            return {"threshold": limit.threshold, "income": None}, None
        line: dict[str, Any] = {"threshold": limit.threshold, "income": income}
        if limit.upper_limit is not None and income > limit.upper_limit:
            return {**line, "upper_limit": limit.upper_limit, "excluded": True}, None
        if income > limit.threshold:
            return {**line, "reduced": True}, limit.reduced_monthly
        return line, None

    def _months(self, child: Row, number: int, reduced: int | None) -> list[dict[str, Any]]:
        birth = child[3]
        born = month_index(birth)
        ends = [(last_month(birth, b.until_age, b.boundary), b) for b in self.rules.bands]
        lines = []
        for month in self.months:
            if month <= born:  # paid from the month after birth
                continue
            band = next((b for end, b in ends if month <= end), None)
            if band is None:
                continue
            third = number >= THIRD
            monthly = reduced if reduced is not None else band.third_child_monthly if third else band.monthly
            lines.append(
                {
                    "month": month_label(month),
                    "band": f"until {band.until_age} ({band.boundary.value})",
                    "monthly": monthly,
                }
            )
        return lines
