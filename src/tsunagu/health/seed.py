"""Synthetic COVID-19 doses for the demo municipality: deterministic (seeded), bulk-inserted, realistic dates.

Adults: a primary series of two doses (Pfizer or Moderna, a few AstraZeneca) from spring 2021 (people aged 65 and
over first), most a third dose in 2021/22, many a bivalent dose in 2022/23. Children aged 5 to 11 in 2022 who are
given doses get the paediatric Pfizer vaccine. Everyone in ``always`` (the demo card holders) aged 5 or more gets
doses, so a card holder can show a vaccination record in the portal."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from tsunagu.health.core.vaccines import vaccine
from tsunagu.health.models import Dose
from tsunagu.kernel.clock import JST

ACTOR = "system:demo"
LOT_LETTERS = "ABCDEFGHJKLMNPRSTUVWXY"


def _between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class _Lots:
    """A few lots per vaccine (many people share a lot, as in real life), like ``FL1234``."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._pools: dict[str, list[str]] = {}

    def __call__(self, cvx: str) -> str:
        pool = self._pools.get(cvx)
        if pool is None:
            pool = [
                f"{self._rng.choice(LOT_LETTERS)}{self._rng.choice(LOT_LETTERS)}{self._rng.randrange(10_000):04d}"
                for _ in range(24)
            ]
            self._pools[cvx] = pool
        return self._rng.choice(pool)


def _adult_series(rng: random.Random, birth: dt.date) -> list[tuple[dt.date, str]]:
    elderly = _age(birth, dt.date(2021, 4, 1)) >= 65
    start = (
        _between(rng, dt.date(2021, 4, 12), dt.date(2021, 7, 31))
        if elderly
        else _between(rng, dt.date(2021, 6, 1), dt.date(2021, 10, 31))
    )
    roll = rng.random()
    cvx, gap = ("208", 21) if roll < 0.8 else ("207", 28) if roll < 0.99 else ("210", 56)
    doses = [(start, cvx), (start + dt.timedelta(days=gap), cvx)]
    if rng.random() < 0.75:
        doses.append(
            (_between(rng, dt.date(2021, 12, 1), dt.date(2022, 6, 30)), rng.choice(("208", "208", "207")))
        )
        if rng.random() < 0.55:
            doses.append(
                (_between(rng, dt.date(2022, 9, 20), dt.date(2023, 3, 31)), rng.choice(("300", "300", "229")))
            )
    return doses


def _child_series(rng: random.Random) -> list[tuple[dt.date, str]]:
    start = _between(rng, dt.date(2022, 3, 1), dt.date(2022, 6, 30))
    return [(start, "218"), (start + dt.timedelta(days=21), "218")]


def demo_doses(
    db: Session,
    people: Iterable[tuple[int, dt.date]],
    *,
    always: set[int],
    municipality_code: str,
    as_of: dt.date,
    seed: int,
    share: float = 0.85,
) -> int:
    """Insert doses for ``people`` ((person id, birth date), in a stable order): ``share`` of those aged 12 or
    more in mid 2021 and a few children, and everyone in ``always`` aged 5 or more. Returns the rows written."""
    rng = random.Random(seed)  # noqa: S311 - synthetic demo data, reproducible by seed
    lots = _Lots(rng)
    rows: list[dict[str, Any]] = []
    for person_id, birth in people:
        if _age(birth, dt.date(2021, 7, 1)) >= 12:
            series = _adult_series(rng, birth) if person_id in always or rng.random() < share else []
        elif _age(birth, dt.date(2022, 3, 1)) >= 5:
            series = _child_series(rng) if person_id in always or rng.random() < 0.2 else []
        else:
            series = []
        for occurrence, cvx in series:
            if occurrence > as_of:
                continue
            found = vaccine(cvx)
            if found is None:  # pragma: no cover - every code above is in the catalogue
                raise LookupError(cvx)
            rows.append(
                {
                    "person_id": person_id,
                    "occurrence": occurrence,
                    "cvx": cvx,
                    "manufacturer": found.manufacturer,
                    "lot": lots(cvx),
                    "municipality_code": municipality_code,
                    "supersedes": None,
                    "action": "recorded",
                    "reason": "",
                    "recorded_by": ACTOR,
                    "recorded_at": dt.datetime.combine(occurrence, dt.time(17, 0), tzinfo=JST),
                }
            )
    if rows:
        db.connection().execute(insert(cast(Table, Dose.__table__)), rows)
    return len(rows)
