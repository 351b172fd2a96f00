"""Bank business days against the Cabinet Office's holiday list (zengin4j's copy) and the year-end closure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.payments.core import calendar

HOLIDAYS = Path(__file__).resolve().parents[4] / "shared/data/zengin/zengin4j/japanese-holidays.csv"
FROM = dt.date(2000, 1, 1)  # jpholiday and the list both cover 2000 onwards


def listed() -> tuple[set[dt.date], dt.date]:
    if not HOLIDAYS.is_file():
        pytest.skip(f"{HOLIDAYS} is not present (zengin4j's holiday list)")
    days, horizon = set(), FROM
    for line in HOLIDAYS.read_text(encoding="utf-8").splitlines():
        if line.startswith("horizon="):
            horizon = dt.date.fromisoformat(line.removeprefix("horizon="))
        elif line[:1].isdigit():
            days.add(dt.date.fromisoformat(line.split(",", 1)[0]))
    return days, horizon


def test_every_day_matches_the_cabinet_office_list() -> None:
    holidays, horizon = listed()
    day, checked = FROM, 0
    while day <= horizon:
        closed = day.weekday() >= 5 or day in holidays or (day.month, day.day) in calendar.YEAR_END
        assert calendar.is_business_day(day) is not closed, day
        checked += day in holidays
        day += dt.timedelta(days=1)
    assert checked > 400


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 12, 30), dt.date(2026, 12, 30)),  # Wednesday: open
        (dt.date(2026, 12, 31), dt.date(2027, 1, 4)),  # year end, then 1/1–1/3
        (dt.date(2027, 4, 29), dt.date(2027, 4, 30)),  # 昭和の日
        (dt.date(2027, 5, 1), dt.date(2027, 5, 6)),  # Saturday, then Golden Week
        (dt.date(2026, 11, 28), dt.date(2026, 11, 30)),  # Saturday
    ],
)
def test_next_business_day(day: dt.date, expected: dt.date) -> None:
    assert calendar.next_business_day(day) == expected


def test_add_business_days_counts_only_open_days() -> None:
    assert calendar.add_business_days(dt.date(2026, 11, 26), 2) == dt.date(2026, 11, 30)
    assert calendar.add_business_days(dt.date(2026, 12, 29), 2) == dt.date(2027, 1, 4)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_the_next_business_day_is_open_and_nothing_between_is(day: dt.date) -> None:
    found = calendar.next_business_day(day)
    assert calendar.is_business_day(found)
    assert found >= day
    assert not any(calendar.is_business_day(day + dt.timedelta(days=i)) for i in range((found - day).days))
