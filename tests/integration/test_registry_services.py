"""Recording 異動 through the registry services, on every backend. Every refusal leaves the database as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tsunagu.kernel.errors import Conflict, EventOutOfOrder, InvalidIdentifier, InvalidInput, NotFound
from tsunagu.kernel.identifiers import lg_code_from_5, my_number_from_serial
from tsunagu.registry.core.types import EventKind, Relationship, Sex, Status
from tsunagu.registry.models import Person, PersonEvent
from tsunagu.registry.services.records import (
    Filing,
    NewAddress,
    Placement,
    RegistryContext,
    record_correction,
    record_death,
    record_move_out,
    record_move_within,
    start_record,
)
from tsunagu.registry.services.verify import replay_all

from .conftest import HOME, OTHER_CITY, counts, move_in, person, refuse

TODAY = dt.date(2026, 11, 26)  # the fixed clock's civil date
NEW_HOME = NewAddress("辻堂", "3番4号", "コーポ辻堂 201号室")


def _events(db: Session, person_id: int) -> list[PersonEvent]:
    return list(
        db.scalars(select(PersonEvent).where(PersonEvent.person_id == person_id).order_by(PersonEvent.id))
    )


def _family(db: Session, ctx: RegistryContext) -> tuple[int, int, int]:
    """A household of three (head, spouse, child), committed. Returns their ids."""
    head = move_in(db, ctx, person(birth=dt.date(1975, 5, 5)))
    hid = db.get_one(Person, head).household_id
    spouse = move_in(
        db,
        ctx,
        person(given="花子", given_kana="ハナコ", birth=dt.date(1977, 7, 7), sex=Sex.FEMALE),
        Placement(hid, Relationship.SPOUSE),
    )
    child = start_record(
        db,
        ctx,
        EventKind.BIRTH,
        person(given="一郎", given_kana="イチロウ", birth=dt.date(2022, 2, 2)),
        HOME,
        Placement(hid, Relationship.CHILD),
        dt.date(2022, 2, 2),
        Filing("test-clerk"),
    )
    db.commit()
    return head, spouse, child


# --- start_record: 出生 and 転入 -------------------------------------------------------------------------


def test_birth_starts_a_record_and_a_household(
    db: Session, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    pid = start_record(
        db,
        ctx,
        EventKind.BIRTH,
        person(family_kana="やまだ", given_kana="ﾀﾛｳ", birth=dt.date(2026, 11, 20)),
        HOME,
        Placement(),
        TODAY,  # ignored for a birth: the effective date is the birth date
        Filing("test-clerk"),
    )
    db.commit()
    row = db.get_one(Person, pid)
    assert row.status == Status.RESIDENT.value
    assert row.relationship == Relationship.HEAD.value
    assert row.registered_on == dt.date(2026, 11, 20) == row.last_event_on
    assert (row.family_name_kana, row.given_name_kana) == ("ヤマダ", "タロウ")  # normalised to katakana
    assert row.lg_code == ctx.municipality_code
    assert len(row.resident_code) == 11
    assert row.resident_code.isdigit()
    assert row.my_number_sealed is None
    assert row.my_number_index is None
    [event] = _events(db, pid)
    assert (event.kind, event.effective_date) == ("birth", dt.date(2026, 11, 20))
    assert counts(session_factory)["households"] == 1


def test_move_in_keeps_the_previous_municipality_and_joins_a_household(
    db: Session, ctx: RegistryContext
) -> None:
    head, spouse, child = _family(db, ctx)
    rows = [db.get_one(Person, i) for i in (head, spouse, child)]
    assert len({r.household_id for r in rows}) == 1
    assert [r.relationship for r in rows] == ["head", "spouse", "child"]
    [arrival] = _events(db, head)
    assert arrival.kind == "move_in"
    assert arrival.effective_date == dt.date(2020, 4, 1)
    assert arrival.payload["details"] == {"from_lg_code": OTHER_CITY}
    assert replay_all(db).mismatches == []


@pytest.mark.parametrize(
    ("from_lg_code", "expected"),
    [
        pytest.param(lg_code_from_5("99999"), InvalidInput, id="valid-check-digit-not-in-master"),
        pytest.param("130001", InvalidInput, id="a-prefecture-not-a-municipality"),
        pytest.param("131017", InvalidIdentifier, id="bad-check-digit"),
        pytest.param("142051", InvalidInput, id="own-municipality"),
        pytest.param("", InvalidInput, id="missing"),
    ],
)
def test_move_in_from_an_unknown_municipality_is_refused(
    ctx: RegistryContext,
    session_factory: sessionmaker[Session],
    from_lg_code: str,
    expected: type[Exception],
) -> None:
    refuse(
        session_factory,
        expected,
        lambda db: start_record(
            db,
            ctx,
            EventKind.MOVE_IN,
            person(),
            HOME,
            Placement(),
            dt.date(2026, 4, 1),
            Filing("test-clerk"),
            from_lg_code=from_lg_code,
        ),
    )


@pytest.mark.parametrize("kind", [EventKind.BIRTH, EventKind.MOVE_IN])
def test_a_future_birth_date_is_refused(
    ctx: RegistryContext, session_factory: sessionmaker[Session], kind: EventKind
) -> None:
    info = refuse(
        session_factory,
        InvalidInput,
        lambda db: start_record(
            db,
            ctx,
            kind,
            person(birth=TODAY + dt.timedelta(days=1)),
            HOME,
            Placement(),
            TODAY,
            Filing("test-clerk"),
            from_lg_code=OTHER_CITY,
        ),
    )
    assert info.value.extra["field"] == "birth_date"  # type: ignore[attr-defined]


def test_a_future_move_in_is_refused(ctx: RegistryContext, session_factory: sessionmaker[Session]) -> None:
    refuse(session_factory, InvalidInput, lambda db: move_in(db, ctx, on=TODAY + dt.timedelta(days=1)))


def test_a_move_in_before_birth_is_refused(
    ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    refuse(
        session_factory,
        InvalidInput,
        lambda db: move_in(db, ctx, person(birth=dt.date(2000, 1, 2)), on=dt.date(2000, 1, 1)),
    )


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("123456789012", id="bad-check-digit"),
        pytest.param("12345678901", id="eleven-digits"),
        pytest.param("1234567890AB", id="letters"),
    ],
)
def test_an_invalid_my_number_is_refused(
    ctx: RegistryContext, session_factory: sessionmaker[Session], number: str
) -> None:
    info = refuse(session_factory, InvalidIdentifier, lambda db: move_in(db, ctx, person(my_number=number)))
    assert number not in str(info.value)


def test_a_duplicate_my_number_is_refused(
    db: Session, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    number = my_number_from_serial(42)
    move_in(db, ctx, person(my_number=number))
    db.commit()
    formatted = f"{number[:4]} {number[4:8]} {number[8:]}"  # the same number, written differently
    info = refuse(
        session_factory,
        Conflict,
        lambda s: move_in(s, ctx, person(given="次郎", given_kana="ジロウ", my_number=formatted)),
    )
    assert number not in str(info.value)


def test_a_person_cannot_join_a_household_as_a_second_head(
    db: Session, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    head = move_in(db, ctx)
    db.commit()
    hid = db.get_one(Person, head).household_id
    refuse(
        session_factory, InvalidInput, lambda s: move_in(s, ctx, placement=Placement(hid, Relationship.HEAD))
    )
    refuse(
        session_factory,
        NotFound,
        lambda s: move_in(s, ctx, placement=Placement(hid + 1000, Relationship.CHILD)),
    )


# --- record_move_within: 転居 ----------------------------------------------------------------------------


def test_a_whole_household_moves_within_together(db: Session, ctx: RegistryContext) -> None:
    head, spouse, child = _family(db, ctx)
    hid = db.get_one(Person, head).household_id
    filing = Filing("test-clerk")
    moved = record_move_within(db, ctx, spouse, NEW_HOME, dt.date(2026, 10, 1), filing, whole_household=True)
    db.commit()
    assert sorted(moved) == sorted([head, spouse, child])
    for pid in moved:
        row = db.get_one(Person, pid)
        assert (row.town, row.block, row.building) == ("辻堂", "3番4号", "コーポ辻堂 201号室")
        assert row.household_id == hid
        assert row.last_event_on == dt.date(2026, 10, 1)
        last = _events(db, pid)[-1]
        assert (last.kind, last.filing_id) == ("move_within", filing.filing_id)
    assert [db.get_one(Person, p).relationship for p in (head, spouse, child)] == ["head", "spouse", "child"]
    assert replay_all(db).mismatches == []


def test_a_member_moving_alone_heads_a_new_household(db: Session, ctx: RegistryContext) -> None:
    head, spouse, child = _family(db, ctx)
    old = db.get_one(Person, head).household_id
    moved = record_move_within(db, ctx, spouse, NEW_HOME, dt.date(2026, 10, 1), Filing("test-clerk"))
    db.commit()
    assert moved == [spouse]
    mover = db.get_one(Person, spouse)
    assert mover.household_id != old
    assert mover.relationship == Relationship.HEAD.value
    assert mover.town == "辻堂"
    for stayer in (head, child):
        row = db.get_one(Person, stayer)
        assert (row.household_id, row.town) == (old, "本町")
        assert [e.kind for e in _events(db, stayer)][-1] != "move_within"
    assert replay_all(db).mismatches == []


def test_the_head_cannot_move_alone_and_leave_the_household_behind(
    db: Session, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    head, _spouse, _child = _family(db, ctx)
    refuse(
        session_factory,
        EventOutOfOrder,
        lambda s: record_move_within(s, ctx, head, NEW_HOME, dt.date(2026, 10, 1), Filing("test-clerk")),
    )


def test_a_move_within_dated_before_the_last_event_is_refused(
    db: Session, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    head, _spouse, _child = _family(db, ctx)  # the child was born here on 2022-02-02
    refuse(
        session_factory,
        EventOutOfOrder,
        lambda s: record_move_within(
            s, ctx, head, NEW_HOME, dt.date(2021, 1, 1), Filing("test-clerk"), whole_household=True
        ),
        untouched_transaction=False,  # the parents' events are added before the child's is refused
    )


# --- record_move_out and record_death: 転出, 死亡 -----------------------------------------------------------


def test_a_household_moves_out(db: Session, ctx: RegistryContext) -> None:
    ids = _family(db, ctx)
    moved = record_move_out(db, ctx, ids[0], OTHER_CITY, TODAY, Filing("test-clerk"), whole_household=True)
    db.commit()
    assert sorted(moved) == sorted(ids)
    for pid in ids:
        row = db.get_one(Person, pid)
        assert (row.status, row.left_on) == (Status.MOVED_OUT.value, TODAY)
        assert _events(db, pid)[-1].payload["details"] == {"to_lg_code": OTHER_CITY}
    assert replay_all(db).mismatches == []


def test_a_move_out_to_the_own_municipality_is_refused(
    db: Session, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    pid = move_in(db, ctx)
    db.commit()
    refuse(
        session_factory,
        InvalidInput,
        lambda s: record_move_out(s, ctx, pid, ctx.municipality_code, TODAY, Filing("test-clerk")),
    )


def test_a_move_out_of_someone_who_is_not_resident_is_refused(
    db: Session, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    gone = move_in(db, ctx)
    record_move_out(db, ctx, gone, OTHER_CITY, dt.date(2025, 1, 1), Filing("test-clerk"))
    dead = move_in(db, ctx, person(given="次郎", given_kana="ジロウ"))
    record_death(db, ctx, dead, dt.date(2025, 1, 1), Filing("test-clerk"))
    db.commit()
    for pid in (gone, dead):
        refuse(
            session_factory,
            EventOutOfOrder,
            lambda s, pid=pid: record_move_out(s, ctx, pid, OTHER_CITY, TODAY, Filing("test-clerk")),
        )


def test_death_twice_is_refused(
    db: Session, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    pid = move_in(db, ctx)
    record_death(db, ctx, pid, dt.date(2026, 11, 1), Filing("test-clerk"))
    db.commit()
    row = db.get_one(Person, pid)
    assert (row.status, row.left_on) == (Status.DECEASED.value, dt.date(2026, 11, 1))
    refuse(
        session_factory,
        EventOutOfOrder,
        lambda s: record_death(s, ctx, pid, dt.date(2026, 11, 2), Filing("test-clerk")),
    )
    refuse(session_factory, NotFound, lambda s: record_death(s, ctx, pid + 1000, TODAY, Filing("test-clerk")))


def test_a_death_in_the_future_is_refused(
    db: Session, ctx: RegistryContext, session_factory: sessionmaker[Session]
) -> None:
    pid = move_in(db, ctx)
    db.commit()
    refuse(
        session_factory,
        InvalidInput,
        lambda s: record_death(s, ctx, pid, TODAY + dt.timedelta(days=1), Filing("test-clerk")),
    )


def test_a_correction_changes_the_record_and_keeps_the_old_values_in_the_history(
    db: Session, ctx: RegistryContext
) -> None:
    pid = move_in(db, ctx)
    old_kana = db.get_one(Person, pid).given_name_kana
    record_correction(db, ctx, pid, {"given_name_kana": "はなえ"}, Filing("test-clerk", reason="届出の誤記"))
    db.commit()
    row = db.get_one(Person, pid)
    assert row.given_name_kana == "ハナエ"  # normalised to katakana
    events = _events(db, pid)
    assert events[0].payload["changes"]["given_name_kana"] == old_kana  # the history is not rewritten
    assert (events[-1].kind, events[-1].reason) == ("correction", "届出の誤記")
    assert replay_all(db).mismatches == []


@pytest.mark.parametrize(
    ("changes", "reason", "message"),
    [
        ({"given_name_kana": "ハナ"}, "", "needs a reason"),
        ({}, "誤記", "at least one changed field"),
        ({"birth_date": "2099-01-01"}, "誤記", "future"),
        ({"birth_date": "2020-13-01"}, "誤記", "YYYY-MM-DD"),
        ({"given_name_kana": "hana"}, "誤記", "katakana"),
        ({"resident_code": "12345678901"}, "誤記", "cannot be changed"),
    ],
)
def test_bad_corrections_are_refused_and_write_nothing(
    db: Session,
    ctx: RegistryContext,
    session_factory: sessionmaker[Session],
    changes: dict[str, object],
    reason: str,
    message: str,
) -> None:
    pid = move_in(db, ctx)
    db.commit()
    refuse(
        session_factory,
        InvalidInput,
        lambda s: record_correction(s, ctx, pid, changes, Filing("test-clerk", reason=reason)),
        match=message,
    )
