"""和暦: era boundaries and a property over every day."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagu.kernel.wareki import ERAS, era_of, to_wareki


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (dt.date(2019, 5, 1), "令和元年5月1日"),
        (dt.date(2019, 4, 30), "平成31年4月30日"),
        (dt.date(1989, 1, 8), "平成元年1月8日"),
        (dt.date(1989, 1, 7), "昭和64年1月7日"),
        (dt.date(1953, 6, 18), "昭和28年6月18日"),
        (dt.date(1926, 12, 25), "昭和元年12月25日"),
        (dt.date(1926, 12, 24), "大正15年12月24日"),
        (dt.date(1912, 7, 30), "大正元年7月30日"),
        (dt.date(1912, 7, 29), "明治45年7月29日"),
        (dt.date(2026, 11, 26), "令和8年11月26日"),
        (dt.date(1868, 10, 22), "1868年10月22日"),
    ],
)
def test_known_dates(day: dt.date, text: str) -> None:
    assert to_wareki(day) == text


@given(st.dates(min_value=dt.date(1868, 10, 23), max_value=dt.date(2100, 12, 31)))
def test_every_day_has_one_era_and_the_year_counts_from_its_start(day: dt.date) -> None:
    era = era_of(day)
    assert era is not None
    name, year = era
    start = dict(ERAS)[name]
    assert start <= day
    assert year == day.year - start.year + 1 >= 1
    later = [s for _, s in ERAS if s > start]
    assert all(day < s for s in later)
