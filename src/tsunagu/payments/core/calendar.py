"""Bank business days (銀行営業日): the days Japanese banks settle transfers.

A day is a bank business day unless it is a Saturday, a Sunday, a national holiday (国民の祝日, with 振替休日 and
国民の休日, from ``jpholiday``) or one of the year-end and New Year bank holidays, 12/31 to 1/3 (銀行法施行令 5条).
A 振込指定日 must be one. Pure: no I/O."""

from __future__ import annotations

import datetime as dt

import jpholiday

SATURDAY = 5
YEAR_END = ((12, 31), (1, 1), (1, 2), (1, 3))
MAX_SCAN = 40  # no run of closed days is anywhere near this long (Golden Week plus weekends is under 10)


def is_business_day(d: dt.date) -> bool:
    """Whether banks are open on ``d``."""
    if d.weekday() >= SATURDAY or (d.month, d.day) in YEAR_END:
        return False
    return not jpholiday.is_holiday(d)


def next_business_day(d: dt.date) -> dt.date:
    """``d`` itself if it is a business day, else the first business day after it."""
    for offset in range(MAX_SCAN):
        day = d + dt.timedelta(days=offset)
        if is_business_day(day):
            return day
    msg = f"no bank business day within {MAX_SCAN} days of {d}"  # pragma: no cover - a calendar bug
    raise ValueError(msg)


def add_business_days(d: dt.date, n: int) -> dt.date:
    """The ``n``-th business day after ``d`` (``n`` ≥ 0; 0 gives :func:`next_business_day` of ``d``)."""
    day = next_business_day(d)
    for _ in range(n):
        day = next_business_day(day + dt.timedelta(days=1))
    return day
