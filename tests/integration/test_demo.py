"""The demo municipality: seeded once, consistent with its own history, and usable afterwards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.db.engine import make_engine, make_session_factory
from tsunagu.db.meta import get_meta
from tsunagu.demo import SEED_KEY, prepare
from tsunagu.identity.models import StaffUser
from tsunagu.kernel.access import Principal
from tsunagu.kernel.clock import Clock
from tsunagu.registry.core.types import EventKind, Relationship, Status
from tsunagu.registry.models import Household, Person
from tsunagu.registry.services import queries
from tsunagu.registry.services.records import Filing, Placement, RegistryContext, start_record
from tsunagu.registry.services.verify import replay_all
from tsunagu.settings import Settings

from .conftest import HOME, counts, move_in, person, residents_snapshot

RESIDENTS = 300


def test_prepare_seeds_once_and_the_history_replays_to_the_stored_state(
    settings: Settings, clock: Clock, session_factory: sessionmaker[Session], clerk: Principal
) -> None:
    first = prepare(settings, RESIDENTS, clock.today())
    assert first.seeded_now
    assert first.info["residents"] == RESIDENTS
    after_first = counts(session_factory)
    with session_factory() as db:
        staff = db.scalar(select(func.count()).select_from(StaffUser))
        assert get_meta(db, SEED_KEY) == first.info
        residents = db.scalar(
            select(func.count()).select_from(Person).where(Person.status == Status.RESIDENT.value)
        )
        former = db.scalar(
            select(func.count()).select_from(Person).where(Person.status != Status.RESIDENT.value)
        )
        figures = queries.stats(db, clerk, clock.today())
    assert residents == RESIDENTS == figures.residents
    assert former == first.info["former"]
    assert after_first["persons"] == RESIDENTS + first.info["former"]
    assert after_first["events"] == first.info["events"]
    assert after_first["households"] == first.info["households"]
    assert after_first["support_measures"] >= 1  # every seeded municipality has a household under 支援措置
    assert figures.suppressed >= 1

    second = prepare(settings, RESIDENTS, clock.today())
    assert not second.seeded_now
    assert second.info == first.info
    assert counts(session_factory) == after_first
    with session_factory() as db:
        assert db.scalar(select(func.count()).select_from(StaffUser)) == staff

    with session_factory() as db:
        report = replay_all(db)
    assert report.checked == after_first["persons"]
    assert report.mismatches == []


def test_prepare_with_the_same_seed_gives_the_same_population(
    settings: Settings, clean_settings: Callable[[str], Settings], clock: Clock
) -> None:
    other = clean_settings("other")
    a = prepare(settings, 120, clock.today(), seed=7)
    b = prepare(other, 120, clock.today(), seed=7)
    assert a.info == b.info
    engines = [make_engine(s) for s in (settings, other)]
    try:
        snapshots = [residents_snapshot(make_session_factory(e)) for e in engines]
    finally:
        for e in engines:
            e.dispose()
    assert snapshots[0] == snapshots[1]
    assert sum(len(h) for h in snapshots[0]) == 120


def test_the_seeded_registry_accepts_new_records(
    settings: Settings, clock: Clock, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    """New households and people get fresh ids after seeding (the seed writes explicit ids)."""
    prepare(settings, RESIDENTS, clock.today())
    before = counts(session_factory)
    with session_factory() as db:
        head = move_in(db, ctx)
        hid = db.get_one(Person, head).household_id
        child = start_record(
            db,
            ctx,
            EventKind.BIRTH,
            person(given="一郎", given_kana="イチロウ", birth=dt.date(2026, 11, 1)),
            HOME,
            Placement(hid, Relationship.CHILD),
            dt.date(2026, 11, 1),
            Filing("test-clerk"),
        )
        db.commit()
        assert db.scalar(select(func.max(Household.id))) == hid
        assert head > before["persons"]
        assert child == head + 1
    after = counts(session_factory)
    assert after["persons"] == before["persons"] + 2
    assert after["households"] == before["households"] + 1
    with session_factory() as db:
        assert replay_all(db).mismatches == []


def test_stats_agree_with_a_count_of_the_rows(
    settings: Settings, clock: Clock, session_factory: sessionmaker[Session], clerk: Principal
) -> None:
    prepare(settings, RESIDENTS, clock.today())
    today = clock.today()
    with session_factory() as db:
        people = list(db.scalars(select(Person)))
        figures = queries.stats(db, clerk, today)
        public = queries.stats(db, None, today, with_events=False)
    current = [p for p in people if p.status == Status.RESIDENT.value]
    ages = [queries.age_on(p.birth_date, today) for p in current]
    assert figures.residents == len(current) == RESIDENTS
    assert figures.former == len(people) - len(current)
    assert figures.households == len({p.household_id for p in current})
    assert figures.by_age_band == {
        "0-14": sum(a < 15 for a in ages),
        "15-64": sum(15 <= a < 65 for a in ages),
        "65+": sum(a >= 65 for a in ages),
    }
    assert sum(figures.by_sex.values()) == len(current)
    assert figures.by_sex.get("male", 0) == sum(p.sex == "male" for p in current)
    assert figures.suppressed == sum(p.address_suppressed for p in current)
    assert sum(figures.events.values()) > len(people)  # everyone has a first event, some have more
    assert public.residents == figures.residents
    assert set(public.events.values()) == {0}  # the public figures skip the event scan


def test_age_cut_on_a_birthday_and_on_29_february() -> None:
    assert queries.years_before(dt.date(2026, 11, 26), 15) == dt.date(2011, 11, 26)
    assert queries.years_before(dt.date(2028, 2, 29), 65) == dt.date(1963, 2, 28)
