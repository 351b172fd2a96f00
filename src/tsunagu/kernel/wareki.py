"""Japanese era dates (和暦), as residents and staff read them on 住民票: 昭和28年6月18日, 令和元年5月1日.

Eras from 明治 (the Meiji era in the Gregorian calendar, from 1868-10-23; dates before it are returned in the
Western calendar). Each era starts on the day given; its first year is written 元年.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

ERAS: Final = (
    ("令和", dt.date(2019, 5, 1)),
    ("平成", dt.date(1989, 1, 8)),
    ("昭和", dt.date(1926, 12, 25)),
    ("大正", dt.date(1912, 7, 30)),
    ("明治", dt.date(1868, 10, 23)),
)


def era_of(day: dt.date) -> tuple[str, int] | None:
    """The era name and year of the era (1 for 元年), or ``None`` before 明治."""
    for name, start in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    return None


def to_wareki(day: dt.date) -> str:
    era = era_of(day)
    if era is None:
        return f"{day.year}年{day.month}月{day.day}日"
    name, year = era
    return f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"
