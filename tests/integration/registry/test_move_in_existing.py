"""特例転入 on every backend: a household that moved out of 藤沢市 to 千代田区 is re-opened there, the same records
with the destination's code, in one new household; anything that does not fit the 転出 is refused and writes
nothing; the replay (``tsunagu registry verify``) agrees."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.integration.conftest import move_in, person, refuse

from tsunagu.kernel.clock import Clock
from tsunagu.kernel.errors import EventOutOfOrder, InvalidInput
from tsunagu.kernel.identifiers import my_number_from_serial
from tsunagu.registry import api as registry
from tsunagu.registry.core.types import EventKind, Relationship, Sex
from tsunagu.registry.models import Person, PersonEvent
from tsunagu.registry.services.records import Placement, RegistryContext, record_move_out
from tsunagu.registry.services.verify import replay_all
from tsunagu.settings import Settings

ORIGIN, DESTINATION, ELSEWHERE = "142051", "131016", "141003"  # 藤沢市, 千代田区, 横浜市
MOVED_OUT_ON, MOVED_IN_ON = dt.date(2026, 11, 10), dt.date(2026, 11, 20)
NEW_HOME = registry.NewAddress("丸の内一丁目", "1-2-3", "丸の内ハイツ 501")


@pytest.fixture
def heard() -> list[registry.RegistryChange]:
    return []


@pytest.fixture
def destination(settings: Settings, clock: Clock, heard: list[registry.RegistryChange]) -> RegistryContext:
    return registry.registry_context(
        settings, clock, [lambda _db, change: heard.append(change)], municipality_code=DESTINATION
    )


def _family(db: Session, ctx: RegistryContext) -> list[int]:
    """Head, spouse and child in 藤沢市, who then move out to 千代田区 together."""
    head = move_in(db, ctx, person(my_number=my_number_from_serial(410_001)))
    hid = db.get_one(Person, head).household_id
    spouse = move_in(
        db,
        ctx,
        person(given="花子", given_kana="ハナコ", birth=dt.date(1982, 6, 1), sex=Sex.FEMALE),
        Placement(hid, Relationship.SPOUSE),
    )
    child = move_in(
        db,
        ctx,
        person(given="一郎", given_kana="イチロウ", birth=dt.date(2015, 3, 3)),
        Placement(hid, Relationship.CHILD),
    )
    record_move_out(
        db, ctx, head, DESTINATION, MOVED_OUT_ON, registry.Filing("origin-clerk"), whole_household=True
    )
    db.commit()
    return [head, spouse, child]


def _move_in(db: Session, ctx: RegistryContext, ids: list[int], **kw: object) -> list[int]:
    filing = kw.pop("filing", None) or registry.Filing("destination-clerk")
    return registry.record_move_in_existing(
        db,
        ctx,
        ids,
        kw.pop("address", NEW_HOME),  # type: ignore[arg-type]
        kw.pop("on", MOVED_IN_ON),  # type: ignore[arg-type]
        filing,  # type: ignore[arg-type]
        from_lg_code=str(kw.pop("from_lg_code", ORIGIN)),
    )


def test_the_household_is_re_opened_in_the_destination(
    db: Session, ctx: RegistryContext, destination: RegistryContext, heard: list[registry.RegistryChange]
) -> None:
    ids = _family(db, ctx)
    before = {p.id: (p.resident_code, p.my_number_index, p.household_id) for p in db.scalars(select(Person))}
    assert _move_in(db, destination, ids) == ids
    db.commit()
    rows = [db.get_one(Person, i) for i in ids]
    assert {(r.status, r.lg_code, r.town, r.block, r.building) for r in rows} == {
        ("resident", DESTINATION, "丸の内一丁目", "1-2-3", "丸の内ハイツ 501")
    }
    assert [r.relationship for r in rows] == ["head", "spouse", "child"]
    assert len({r.household_id for r in rows}) == 1
    assert rows[0].household_id != before[ids[0]][2]  # one new household
    assert all((r.resident_code, r.my_number_index) == before[r.id][:2] for r in rows)  # carried over
    assert {(r.registered_on, r.left_on) for r in rows} == {(MOVED_IN_ON, None)}
    event = db.scalars(
        select(PersonEvent).where(PersonEvent.person_id == ids[0]).order_by(PersonEvent.id)
    ).all()[-1]
    assert (event.kind, event.payload["details"]) == ("move_in", {"from_lg_code": ORIGIN})
    assert [(c.person_id, c.kind, c.address_changed, c.name_changed) for c in heard] == [
        (i, EventKind.MOVE_IN, True, False) for i in ids
    ]
    assert replay_all(db).mismatches == []
    assert registry.basic_facts(db, ids[0]).address == "東京都千代田区丸の内一丁目1-2-3 丸の内ハイツ 501"


def test_the_same_filing_twice_records_once(
    db: Session, ctx: RegistryContext, destination: RegistryContext
) -> None:
    ids = _family(db, ctx)
    filing = registry.Filing("destination-clerk")
    _move_in(db, destination, ids, filing=filing)
    db.commit()
    events = len(db.scalars(select(PersonEvent)).all())
    assert _move_in(db, destination, ids, filing=filing) == ids
    assert len(db.scalars(select(PersonEvent)).all()) == events


def test_without_the_head_the_first_listed_heads_and_others_become_relatives(
    db: Session, ctx: RegistryContext, destination: RegistryContext
) -> None:
    _head, spouse, child = _family(db, ctx)
    _move_in(db, destination, [spouse, child])
    assert db.get_one(Person, spouse).relationship == Relationship.HEAD.value
    assert db.get_one(Person, child).relationship == Relationship.OTHER_RELATIVE.value
    assert replay_all(db).mismatches == []


def test_the_head_heads_wherever_listed(
    db: Session, ctx: RegistryContext, destination: RegistryContext
) -> None:
    head, spouse, child = _family(db, ctx)
    _move_in(db, destination, [child, head, spouse])
    assert [db.get_one(Person, i).relationship for i in (head, spouse, child)] == ["head", "spouse", "child"]


@pytest.mark.parametrize(
    ("kw", "expected", "match"),
    [
        ({"on": dt.date(2026, 11, 9)}, InvalidInput, "before the move-out"),
        ({"on": dt.date(2026, 11, 27)}, InvalidInput, "too far in the future"),
        ({"from_lg_code": ELSEWHERE}, EventOutOfOrder, "did not move out of"),
        ({"from_lg_code": DESTINATION}, InvalidInput, "another municipality"),
        ({"address": registry.NewAddress("", "1")}, InvalidInput, "Town is required"),
    ],
)
def test_what_does_not_fit_the_move_out_is_refused(
    session_factory: sessionmaker[Session],
    db: Session,
    ctx: RegistryContext,
    destination: RegistryContext,
    kw: dict[str, object],
    expected: type[Exception],
    match: str,
) -> None:
    ids = _family(db, ctx)
    refuse(session_factory, expected, lambda s: _move_in(s, destination, ids, **dict(kw)), match)


def test_a_resident_or_someone_who_went_elsewhere_is_refused(
    session_factory: sessionmaker[Session],
    db: Session,
    ctx: RegistryContext,
    destination: RegistryContext,
    settings: Settings,
    clock: Clock,
) -> None:
    ids = _family(db, ctx)
    resident = move_in(db, ctx, person(given="次郎", given_kana="ジロウ"))
    elsewhere = move_in(db, ctx, person(given="三郎", given_kana="サブロウ"))
    record_move_out(db, ctx, elsewhere, ELSEWHERE, MOVED_OUT_ON, registry.Filing("origin-clerk"))
    db.commit()
    for who, match in ((resident, "re-opens a record closed by a"), (elsewhere, "moved out to 141003")):
        refuse(
            session_factory,
            EventOutOfOrder,
            lambda s, who=who: _move_in(s, destination, [ids[0], who]),
            match,
            untouched_transaction=False,
        )
    refuse(session_factory, InvalidInput, lambda s: _move_in(s, destination, []), "at least one")
    # the destination moving them on to a third place: its own 転出 and 転入 work as for anyone
    _move_in(db, destination, ids)
    again = registry.registry_context(settings, clock, municipality_code=ELSEWHERE)
    record_move_out(
        db, destination, ids[0], ELSEWHERE, dt.date(2026, 11, 25), registry.Filing("c"), whole_household=True
    )
    _move_in(db, again, ids, from_lg_code=DESTINATION, on=dt.date(2026, 11, 26))
    assert {db.get_one(Person, i).lg_code for i in ids} == {ELSEWHERE}
    assert replay_all(db).mismatches == []


def test_a_context_for_an_unknown_municipality_is_refused(settings: Settings, clock: Clock) -> None:
    with pytest.raises(InvalidInput):
        registry.registry_context(settings, clock, municipality_code="999999")
    assert registry.registry_context(settings, clock).municipality_code == settings.municipality_code
