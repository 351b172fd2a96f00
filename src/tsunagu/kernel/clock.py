"""The clock is injected so tests and seeding can fix 'now'. Japan Standard Time is the civil time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

JST = dt.timezone(dt.timedelta(hours=9), "JST")


@dataclass(frozen=True)
class Clock:
    """Returns aware datetimes; ``today()`` is the civil date in Japan."""

    now_fn: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return self.now_fn()

    def today(self) -> dt.date:
        return self.now().astimezone(JST).date()


def fixed_clock(at: dt.datetime) -> Clock:
    return Clock(lambda: at)
