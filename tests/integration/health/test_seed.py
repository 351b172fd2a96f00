"""The demo's doses: the same seed gives the same doses, every dose passes the entry rules, and everyone in
``always`` aged 5 or more gets doses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.health import api as health
from tsunagu.health.core.vaccines import check_entry
from tsunagu.health.models import Dose

AS_OF = dt.date(2026, 11, 26)
PEOPLE = [(i, dt.date(1930 + i % 90, 1 + i % 12, 1 + i % 28)) for i in range(1, 301)]


def _seed(factory: sessionmaker[Session], always: set[int]) -> list[tuple[object, ...]]:
    with factory.begin() as db:
        health.seed_demo_doses(db, PEOPLE, always=always, municipality_code="142051", as_of=AS_OF, seed=7)
    with factory() as db:
        rows = db.execute(
            select(Dose.person_id, Dose.occurrence, Dose.cvx, Dose.manufacturer, Dose.lot).order_by(Dose.id)
        ).all()
    return [tuple(r) for r in rows]


def _clear(factory: sessionmaker[Session]) -> None:
    with factory.begin() as db:
        if db.get_bind().dialect.name == "sqlite":
            db.execute(text("DROP TRIGGER health_doses_no_delete"))
            db.execute(delete(Dose))
        else:
            db.execute(text("ALTER TABLE health_doses DISABLE TRIGGER USER"))
            db.execute(delete(Dose))
            db.execute(text("ALTER TABLE health_doses ENABLE TRIGGER USER"))


def test_the_demo_doses_are_reproducible_and_valid(session_factory: sessionmaker[Session]) -> None:
    always = {p for p, _ in PEOPLE[:40]}
    first = _seed(session_factory, always)
    assert first
    for _person, occurrence, cvx, manufacturer, lot in first:
        assert (
            check_entry(occurrence=occurrence, cvx=cvx, manufacturer=manufacturer, lot=lot, today=AS_OF) == []
        )  # type: ignore[arg-type]
    born = dict(PEOPLE)
    dosed = {r[0] for r in first}
    assert {p for p in always if (dt.date(2022, 3, 1) - born[p]).days >= 5 * 366} <= dosed
    _clear(session_factory)
    assert _seed(session_factory, always) == first
