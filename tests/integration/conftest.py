"""Registry helpers for integration tests: a context, a clerk, people to record and row counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.identity.core.roles import Role, permissions_for
from tsunagu.kernel.access import Principal
from tsunagu.kernel.clock import Clock
from tsunagu.registry.api import registry_context
from tsunagu.registry.core.types import EventKind, Sex, Status
from tsunagu.registry.models import Household, Person, PersonEvent, RegistryImport, SupportMeasure
from tsunagu.registry.services.records import (
    Filing,
    NewAddress,
    NewPerson,
    Placement,
    RegistryContext,
    start_record,
)
from tsunagu.settings import Settings

OTHER_CITY = "131016"  # 東京都千代田区, a municipality in the master other than the one under test (142051)
COUNTED = {
    "persons": Person,
    "events": PersonEvent,
    "households": Household,
    "support_measures": SupportMeasure,
    "imports": RegistryImport,
}


@pytest.fixture
def ctx(settings: Settings, clock: Clock) -> RegistryContext:
    return registry_context(settings, clock)


@pytest.fixture
def clerk() -> Principal:
    """A registry clerk (住民記録担当): every registry permission, including suppressed addresses."""
    return Principal(1, "test-clerk", "Test Clerk", permissions_for([Role.REGISTRY_CLERK]))


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging data; commit explicitly, as the edge of the application would."""
    session = session_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def counts_in(session: Session) -> dict[str, int]:
    return {
        name: session.scalar(select(func.count()).select_from(model)) or 0 for name, model in COUNTED.items()
    }


def counts(factory: sessionmaker[Session]) -> dict[str, int]:
    """Committed row counts, read in a new session."""
    with factory() as session:
        return counts_in(session)


def refuse(
    factory: sessionmaker[Session],
    expected: type[BaseException],
    action: Callable[[Session], object],
    match: str | None = None,
    *,
    untouched_transaction: bool = True,
) -> pytest.ExceptionInfo[BaseException]:
    """Run ``action`` in a transaction the way the application's edge does, expect it to be refused, and check
    that nothing was written: after the edge rolls back, every registry table has exactly the rows it had before.

    With ``untouched_transaction`` (the default) the refusal must also come before any person or event is added
    to the open transaction. A filing that moves several people checks each in turn, so a refusal for a later
    member relies on the edge's rollback; pass ``False`` for those."""
    before = counts(factory)
    session = factory()
    try:
        with pytest.raises(expected, match=match) as info:
            action(session)
        during = counts_in(session)  # autoflushes whatever the refused call left pending
        if untouched_transaction:
            assert (during["persons"], during["events"]) == (before["persons"], before["events"])
    finally:
        session.rollback()
        session.close()
    assert counts(factory) == before
    return info


Snapshot = list[tuple[tuple[object, ...], ...]]


def residents_snapshot(factory: sessionmaker[Session]) -> Snapshot:
    """Current residents as households (sorted lists of members), independent of ids and resident codes."""
    households: dict[int, list[tuple[object, ...]]] = {}
    with factory() as session:
        for p in session.scalars(select(Person).where(Person.status == Status.RESIDENT.value)):
            households.setdefault(p.household_id, []).append(
                (
                    p.relationship,
                    p.family_name,
                    p.given_name,
                    p.family_name_kana,
                    p.given_name_kana,
                    p.birth_date,
                    p.sex,
                    p.lg_code,
                    p.town,
                    p.block,
                    p.building,
                    p.registered_on,
                )
            )
    return sorted(tuple(sorted(members, key=repr)) for members in households.values())


def person(
    family: str = "山田",
    given: str = "太郎",
    family_kana: str = "ヤマダ",
    given_kana: str = "タロウ",
    birth: dt.date = dt.date(1980, 4, 1),
    sex: Sex = Sex.MALE,
    my_number: str | None = None,
) -> NewPerson:
    return NewPerson(family, given, family_kana, given_kana, birth, sex, my_number)


HOME = NewAddress("本町", "1番2号", "")


def move_in(
    db: Session,
    ctx: RegistryContext,
    who: NewPerson | None = None,
    placement: Placement | None = None,
    on: dt.date = dt.date(2020, 4, 1),
    address: NewAddress = HOME,
) -> int:
    """Record a 転入 from another municipality and return the new person's id."""
    return start_record(
        db,
        ctx,
        EventKind.MOVE_IN,
        who or person(),
        address,
        placement or Placement(),
        on,
        Filing("test-clerk"),
        from_lg_code=OTHER_CITY,
    )
