"""The fifth birthday after issue (発行の日後5回目の誕生日), including 29 February births."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.kernel.clock import JST
from tsunagu.pki.api import end_of_day_jst, five_birthdays_after, validity_end
from tsunagu.pki.core.profiles import birthday_in

births = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31))


@pytest.mark.parametrize(
    ("issued", "born", "expected"),
    [
        (dt.date(2026, 11, 26), dt.date(1980, 4, 1), dt.date(2031, 4, 1)),  # next birthday 2027 is the 1st
        (dt.date(2026, 3, 31), dt.date(1980, 4, 1), dt.date(2030, 4, 1)),  # birthday tomorrow is the 1st
        (
            dt.date(2026, 4, 1),
            dt.date(1980, 4, 1),
            dt.date(2031, 4, 1),
        ),  # issued on a birthday: it does not count
        (dt.date(2026, 11, 26), dt.date(2026, 11, 26), dt.date(2031, 11, 26)),  # a newborn
        (dt.date(2026, 11, 26), dt.date(2000, 2, 29), dt.date(2031, 2, 28)),  # 2031 is a common year
        (dt.date(2023, 6, 1), dt.date(2000, 2, 29), dt.date(2028, 2, 29)),  # 2028 is a leap year
        (dt.date(2027, 2, 28), dt.date(2000, 2, 29), dt.date(2032, 2, 29)),  # the 28th stands for the 29th
        (dt.date(2028, 2, 28), dt.date(2000, 2, 29), dt.date(2032, 2, 29)),  # 29 Feb 2028 is the 1st
    ],
)
def test_examples(issued: dt.date, born: dt.date, expected: dt.date) -> None:
    assert five_birthdays_after(issued, born) == expected


def test_a_birth_after_the_issue_is_refused() -> None:
    with pytest.raises(ValueError, match="after the issue"):
        five_birthdays_after(dt.date(2026, 1, 1), dt.date(2026, 1, 2))


@given(born=births, days=st.integers(min_value=0, max_value=120 * 366))
def test_exactly_five_birthdays_fall_after_the_issue_up_to_the_end(born: dt.date, days: int) -> None:
    issued = born + dt.timedelta(days=days)
    end = five_birthdays_after(issued, born)
    birthdays = [birthday_in(y, born) for y in range(issued.year, end.year + 1)]
    assert sum(issued < b <= end for b in birthdays) == 5
    assert end == birthdays[-1]
    assert dt.timedelta(days=4 * 365) <= end - issued <= dt.timedelta(days=5 * 366)


@given(born=births, days=st.integers(min_value=0, max_value=120 * 366))
def test_the_end_is_the_birthday_or_28_february_for_a_29_february_birth(born: dt.date, days: int) -> None:
    end = five_birthdays_after(born + dt.timedelta(days=days), born)
    if (born.month, born.day) == (2, 29) and not calendar.isleap(end.year):
        assert (end.month, end.day) == (2, 28)
    else:
        assert (end.month, end.day) == (born.month, born.day)


def test_validity_ends_at_the_last_second_of_the_day_in_japan() -> None:
    end = validity_end(dt.date(2026, 11, 26), dt.date(1980, 4, 1))
    assert end == dt.datetime(2031, 4, 1, 23, 59, 59, tzinfo=JST)
    assert end.tzinfo == dt.UTC
    assert end_of_day_jst(dt.date(2031, 4, 1)).isoformat() == "2031-04-01T14:59:59+00:00"
